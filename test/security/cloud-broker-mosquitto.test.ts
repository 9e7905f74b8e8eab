/**
 * Issue 12, item 2, on the deployment's broker: a real Mosquitto run with deploy/mosquitto/mosquitto.conf
 * and deploy/mosquitto/acl, logins written as `npm run provision-edge` writes them.
 */
import t from 'tap';
import { newToken } from '@safe-community/cloud-ingest';
import { brokerAttacks, type BrokerUnderTest } from './fixtures/broker-attacks.js';
import { startMosquitto } from './fixtures/mosquitto.js';

const parts = {
  ingest: { username: 'ingest', password: newToken('mq') },
  edgeA: { id: 'edge-a1', secret: newToken('edge') },
  edgeB: { id: 'edge-b1', secret: newToken('edge') },
};
const broker = await startMosquitto({ ingest: parts.ingest.password, [parts.edgeA.id]: parts.edgeA.secret, [parts.edgeB.id]: parts.edgeB.secret });
t.teardown(() => broker.stop());

brokerAttacks(t, (): BrokerUnderTest => ({ url: broker.url, ...parts }));

t.test('the shared subscription the ingest instances use delivers to the ingest only', async (t) => {
  const { tryConnect } = await import('./fixtures/broker-attacks.js');
  const conn = async (clientId: string, username: string, password: string) => {
    const c = await tryConnect(broker.url, { protocolVersion: 5, clientId, username, password });
    if (!c.client) throw new Error(`${username}: ${c.error?.message}`);
    t.teardown(() => c.client!.endAsync(true));
    const got: string[] = [];
    c.client.on('message', (_topic, p) => got.push(p.toString()));
    return { client: c.client, got };
  };
  const ingest = await conn('ingest-share', 'ingest', parts.ingest.password);
  const granted = await ingest.client.subscribeAsync('$share/g1/edges/+/uplink', { qos: 1 });
  t.ok(granted[0] && granted[0].qos < 128, 'the ingest joins its share group');
  // Mosquitto 2.0 grants an edge's subscription and then withholds every message it may not read.
  const spy = await conn('edge-share', parts.edgeA.id, parts.edgeA.secret);
  await spy.client.subscribeAsync('$share/g2/edges/+/uplink', { qos: 1 });
  const b = await conn(parts.edgeB.id, parts.edgeB.id, parts.edgeB.secret);
  await b.client.publishAsync(`edges/${parts.edgeB.id}/uplink`, 'b-shared', { qos: 1 });
  const { waitFor } = await import('@safe-community/testkit');
  await waitFor(() => ingest.got.includes('b-shared'), { what: 'ingest got the uplink through its share group' });
  t.same(spy.got, [], "the edge's share group got nothing");
});
