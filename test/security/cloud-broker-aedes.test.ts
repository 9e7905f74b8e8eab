/**
 * Issue 12, item 2, on the embedded cloud broker of `npm start` (demo/cloud-broker.ts): the same attacks as
 * on Mosquitto, with edge logins checked against the cloud's edge directory on a real PostgreSQL, and every
 * refusal recorded.
 */
import t from 'tap';
import { EdgeDirectory, PgStore } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase, waitFor } from '@safe-community/testkit';
import { CloudBroker, type BrokerRefusal } from '../../demo/cloud-broker.js';
import { brokerAttacks, tryConnect, type BrokerUnderTest } from './fixtures/broker-attacks.js';

const db = await freshDatabase('sec_aedes');
const store = new PgStore({ url: db.url, logger: createLogger({ level: 'silent' }) });
await store.start();
const edges = new EdgeDirectory(store);
const refusals: BrokerRefusal[] = [];
const broker = new CloudBroker({ edges, onRefused: (r) => refusals.push(r) });
await broker.start();
t.teardown(async () => {
  await broker.stop();
  await store.stop();
  await db.drop();
});
const edgeA = { id: 'edge-a1', secret: await edges.issue('edge-a1', 'site-a') };
const edgeB = { id: 'edge-b1', secret: await edges.issue('edge-b1', 'site-b') };
const ingest = { username: 'ingest', password: broker.ingestPassword };

brokerAttacks(t, (): BrokerUnderTest => ({ url: broker.url, ingest, edgeA, edgeB }));

t.test('every refusal is recorded with its principal and topic', async (t) => {
  await waitFor(() => refusals.some((r) => r.code === 'ERR_BROKER_ACL_SUBSCRIBE'), { what: 'subscribe refusals recorded' });
  t.ok(refusals.some((r) => r.code === 'ERR_BROKER_AUTH' && r.principal === null), 'anonymous login');
  t.ok(refusals.some((r) => r.code === 'ERR_BROKER_AUTH' && r.principal === 'edge-a1'), 'wrong secret');
  t.ok(refusals.some((r) => r.code === 'ERR_BROKER_ACL_PUBLISH' && r.principal === 'edge-a1' && r.topic === 'edges/edge-b1/uplink'), "another edge's uplink");
  t.ok(refusals.some((r) => r.code === 'ERR_BROKER_ACL_PUBLISH' && r.principal === 'edge-a1' && r.topic === 'edges/edge-b1/down'), 'a down topic');
  t.ok(refusals.some((r) => r.code === 'ERR_BROKER_ACL_SUBSCRIBE' && r.principal === 'edge-a1' && r.topic === 'edges/edge-b1/down'), "another edge's down topic");
  t.notOk(JSON.stringify(refusals).includes(edgeA.secret), 'no secret in the records');
});

t.test('a disabled edge and a rotated-out secret cannot log in; the previous secret works during its grace', async (t) => {
  const c = await edges.issue('edge-c1', 'site-a');
  const rotated = await edges.issue('edge-c1', 'site-a', { graceS: 3600 });
  for (const [secret, what] of [[c, 'previous secret in grace'], [rotated, 'new secret']] as const) {
    const r = await tryConnect(broker.url, { clientId: `c-${what}`, username: 'edge-c1', password: secret });
    t.ok(r.client, what);
    await r.client?.endAsync(true);
  }
  const again = await edges.issue('edge-c1', 'site-a', { graceS: 0 });
  t.equal((await tryConnect(broker.url, { clientId: 'c-old', username: 'edge-c1', password: rotated })).client, null, 'without grace the replaced secret is refused at once');
  await edges.disable('edge-c1');
  t.equal((await tryConnect(broker.url, { clientId: 'c-dis', username: 'edge-c1', password: again })).client, null, 'a disabled edge is refused');
});
