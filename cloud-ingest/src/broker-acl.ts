/**
 * Who may do what on the cloud broker (issue 12, item 2), as one pure policy. The embedded broker of the
 * one-machine start applies it through Aedes's hooks (demo/cloud-broker.ts); the Mosquitto of a deployment
 * applies the same rules from `deploy/mosquitto/acl` (user `ingest`, then `pattern … %u` lines for every
 * edge), and `cloud-ingest/test/broker-acl.test.ts` holds the two to the same answers.
 *
 * - An edge logs in with its own id as user name and its own secret. It may publish only its own uplink
 *   and status, and subscribe only to its own down topic.
 * - The ingest logs in as `ingest`. It alone may publish on any edge's down topic and to the guards'
 *   terminals, and subscribe to every edge's uplink (directly or through an MQTT 5 share group).
 */
import { EDGE_ROOT, parseEdgeTopic } from '@safe-community/contracts';

export const INGEST_PRINCIPAL = 'ingest';

export type BrokerPrincipal = { kind: 'ingest' } | { kind: 'edge'; edge: string };

const TERMINAL_TOPIC = /^terminals\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/(dispatch|call)$/;
const SHARED_UPLINK = /^\$share\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/edges\/\+\/uplink$/;

/** The edge's status topic (a retained online/offline it may set, e.g. as its last will). */
export const edgeStatusTopic = (edge: string): string => `${EDGE_ROOT}/${edge}/status`;

export function mayPublish(who: BrokerPrincipal, topic: string): boolean {
  if (who.kind === 'ingest') {
    const parsed = parseEdgeTopic(topic);
    return (parsed !== null && parsed.channel === 'down') || TERMINAL_TOPIC.test(topic);
  }
  return topic === `${EDGE_ROOT}/${who.edge}/uplink` || topic === edgeStatusTopic(who.edge);
}

export function maySubscribe(who: BrokerPrincipal, filter: string): boolean {
  if (who.kind === 'ingest') return filter === `${EDGE_ROOT}/+/uplink` || SHARED_UPLINK.test(filter);
  return filter === `${EDGE_ROOT}/${who.edge}/down`;
}
