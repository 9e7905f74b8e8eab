/**
 * Issue 12, item 1, on the MQTT path: the cloud broker ties a login to its own uplink topic, and the ingest
 * takes the site from the edge's registered identity. An edge's envelope claiming another site, or one from
 * a login the cloud has no identity for, is dead-lettered, stores nothing, and gets no ack.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase, waitFor } from '@safe-community/testkit';
import { CloudBroker } from '../../demo/cloud-broker.js';
import { envelopeOf, fireEvent } from './fixtures/ingest.js';

const db = await freshDatabase('sec_mqtt');
let ingestRef: IngestService | undefined;
const broker = new CloudBroker({ edges: { authenticate: async (e, s) => (ingestRef ? ingestRef.edges.authenticate(e, s) : null) } });
await broker.start();
const ingest = createIngestService({ port: 0, databaseUrl: db.url, mqttUrl: broker.ingestUrl, mqttProtocol: 4, clientId: `ingest-secmq-${process.pid}`, maintenance: { enabled: false } }, { logger: createLogger({ level: 'silent' }) });
ingestRef = ingest;
await ingest.start();
t.teardown(async () => {
  await ingest.stop();
  await broker.stop();
  await db.drop();
});
const secret = await ingest.edges.issue('edge-a1', 'site-a');
const edge = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'edge-a1', username: 'edge-a1', password: secret, reconnectPeriod: 0 });
t.teardown(() => edge.endAsync(true));
const downs: string[] = [];
edge.on('message', (_topic, p) => downs.push(p.toString()));
await edge.subscribeAsync('edges/edge-a1/down', { qos: 1 });
const dead = async (code: string): Promise<number> => (await ingest.store.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters WHERE code = $1', [code]))[0]!.n;
const events = async (): Promise<number> => (await ingest.store.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]!.n;

t.test("an edge's envelope for another site is refused on MQTT", async (t) => {
  await edge.publishAsync('edges/edge-a1/uplink', JSON.stringify(envelopeOf('edge-a1', 'site-b', [fireEvent('edge-a1', 'site-b', 1, randomUUID())])), { qos: 1 });
  await waitFor(async () => (await dead('ERR_SITE_MISMATCH')) === 1, { what: 'site mismatch dead-lettered' });
  t.equal(await events(), 0, 'nothing stored');
  t.same(downs, [], 'no ack for it');
  // Control: its own site is stored and acked, with an ack signed with its own key.
  await edge.publishAsync('edges/edge-a1/uplink', JSON.stringify(envelopeOf('edge-a1', 'site-a', [fireEvent('edge-a1', 'site-a', 1, randomUUID())])), { qos: 1 });
  await waitFor(() => downs.length === 1, { what: 'ack for the own-site envelope' });
  t.match(JSON.parse(downs[0]!), { type: 'signed', edge: 'edge-a1' });
  t.equal(await events(), 1);
});

t.test('an envelope from a login the cloud has no identity for is refused', async (t) => {
  // The ingest's own login may publish nothing on uplinks; an identity-less edge is simulated by disabling
  // the edge after its login, so the broker session stays and the ingest must refuse on its own.
  // (Disabling through the ingest's own directory drops its cached identity at once.)
  await ingest.edges.disable('edge-a1');
  await edge.publishAsync('edges/edge-a1/uplink', JSON.stringify(envelopeOf('edge-a1', 'site-a', [fireEvent('edge-a1', 'site-a', 2, randomUUID())])), { qos: 1 });
  await waitFor(async () => (await dead('ERR_EDGE_UNKNOWN')) === 1, { what: 'unknown edge dead-lettered' });
  t.equal(await events(), 1, 'nothing more stored');
});
