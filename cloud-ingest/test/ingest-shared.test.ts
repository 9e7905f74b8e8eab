/**
 * Two ingest instances share the uplink subscription on the machine's Mosquitto (MQTT 5 $share): the
 * broker splits the envelopes between them, and every record is still written exactly once.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { FakeEdge } from './helpers/fake-edge.js';
import { mixed, range } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';
const run = randomBytes(4).toString('hex');

t.test('two instances in one share group: every record exactly once, both did work', async (t) => {
  const db = await freshDatabase('shared');
  t.teardown(() => db.drop());
  const common = {
    logLevel: 'silent', port: 0, databaseUrl: db.url, mqttUrl: MOSQUITTO, shareGroup: `g${run}`,
    // Short-lived sessions: these test clients must not leave queues behind on the machine's broker.
    sessionExpirySec: 30, maintenance: { enabled: false }, api: { edgeAuth: false },
  };
  const a = createIngestService({ ...common, clientId: `ingest-a-${run}` });
  const b = createIngestService({ ...common, clientId: `ingest-b-${run}` });
  await a.start();
  t.teardown(() => a.stop());
  await b.start();
  t.teardown(() => b.stop());
  t.match(await a.health(), { status: 'up', parts: { store: { state: 'up' }, mqtt: { state: 'up' }, ingest: { state: 'up' } } });

  const total = 1500;
  const edges = [0, 1, 2].map((i) => new FakeEdge({
    url: MOSQUITTO, protocolVersion: 5, edge: `sh${i}-${run}`, batchSize: 50, window: 4, resendMs: 800,
    make: (edge, seq) => mixed(edge, seq, seq)[0]!,
  }));
  for (const e of edges) await e.start();
  t.teardown(async () => { for (const e of edges) await e.stop(); });
  await Promise.all(edges.map((e) => e.send(total, 90_000)));

  for (const [i, e] of edges.entries()) {
    t.same(await storedSeqs(a.store, `sh${i}-${run}`), range(1, total), `edge ${i}: every seq exactly once`);
    t.equal(e.acked, total);
  }
  const ca = a.counters();
  const cb = b.counters();
  t.ok(ca.envelopes > 0 && cb.envelopes > 0, `both instances committed envelopes (${ca.envelopes} / ${cb.envelopes})`);
  t.equal(ca.rowsWritten + cb.rowsWritten, total * edges.length, 'rows written across both instances = records sent');
});
