/**
 * Issue 12, "done when", on the one-machine assembly `npm start` runs (demo/system.ts): an unauthenticated
 * POST to the HTTP ingest gets 401, an anonymous MQTT login to its cloud broker is refused, the demo edge's
 * own credential cannot publish another edge's uplink nor anything on a down topic, and the edge still
 * delivers (its data flows under its own credential, acked with signed acks).
 */
import t from 'tap';
import { waitFor } from '@safe-community/testkit';
import { startSystem } from '../../demo/system.js';
import { tryConnect } from './fixtures/broker-attacks.js';

const sys = await startSystem({ port: 0, databaseUrl: null, camera: false });
t.teardown(() => sys.stop());

t.test('the running demo refuses anonymous edges on HTTP and MQTT', async (t) => {
  const r = await fetch(`${sys.apiUrl}/ingest/v1/envelopes`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, edge: 'hub-b1', site: 'sunrise-gardens', sentAt: new Date().toISOString(), messages: [] }),
  });
  t.equal(r.status, 401);
  t.equal((await tryConnect(sys.cloudMqttUrl, { clientId: 'anon' })).client, null, 'anonymous MQTT refused');
});

t.test("the demo edge's credential publishes only its own uplink, never on a down topic", async (t) => {
  const secret = await sys.ingest.edges.issue('hub-x', 'sunrise-gardens');
  const c = await tryConnect(sys.cloudMqttUrl, { clientId: 'hub-x', username: 'hub-x', password: secret });
  t.ok(c.client, 'a registered edge logs in with its own secret');
  for (const topic of ['edges/hub-b1/uplink', 'edges/hub-b1/down', 'edges/hub-x/down']) {
    const closed = new Promise<boolean>((resolve) => c.client!.once('close', () => resolve(true)));
    c.client!.publish(topic, '{}', { qos: 1 });
    t.ok(await closed, `publish to ${topic} refused (connection closed)`);
    await c.client!.endAsync(true);
    const again = await tryConnect(sys.cloudMqttUrl, { clientId: 'hub-x', username: 'hub-x', password: secret });
    c.client = again.client;
  }
  await c.client?.endAsync(true);
  const refused = await sys.ingest.store.query<{ n: number }>("SELECT count(*)::int AS n FROM dead_letters WHERE code = 'ERR_BROKER_ACL_PUBLISH' AND edge = 'hub-x'");
  t.equal(refused[0]?.n, 3, 'each refusal is a dead letter');
});

t.test('the demo edge still delivers under its own credential, with signed acks', async (t) => {
  await sys.sims.panels.FP1.raiseAlarm({ zone: 3, loop: 1, detector: 12, type: 'smoke' });
  await waitFor(async () => (await sys.ingest.store.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE kind = 'fire.alarm'"))[0]?.n, { what: 'fire alarm stored', timeoutMs: 20_000 });
  await waitFor(() => sys.agent.uplink!.metrics().ackedSeq > 0, { what: 'acked by the cloud' });
  t.equal(sys.agent.uplink!.metrics().downRefused, 0, 'every ack from the cloud passed the signature check');
});
