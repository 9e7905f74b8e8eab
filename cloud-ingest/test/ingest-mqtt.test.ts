/** MQTT ingest end to end: fake edges → in-process Aedes → ingest → PostgreSQL / PGlite, acks on the down topic. */
import t from 'tap';
import { freshDatabase, waitFor, startAedes } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { createIngestService, PgliteStore, type IngestService } from '@safe-community/cloud-ingest';
import { FakeEdge } from './helpers/fake-edge.js';
import { mixed, range, telemetry } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const quiet = { logLevel: 'silent' };

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`three edges stream mixed records, each stored once, in order (${backend})`, async (t) => {
    const broker = await startAedes();
    t.teardown(() => broker.close());
    let databaseUrl: string | null = null;
    if (backend === 'postgres') {
      const db = await freshDatabase('ingest');
      t.teardown(() => db.drop());
      databaseUrl = db.url;
    }
    const ingest: IngestService = createIngestService({
      ...quiet, port: 0, databaseUrl, mqttUrl: broker.url, mqttProtocol: 4, clientId: `ingest-${process.pid}`, maintenance: { enabled: false }, api: { edgeAuth: false },
    });
    await ingest.start();
    t.teardown(() => ingest.stop());
    t.equal(ingest.store.kind, backend);

    const total = backend === 'postgres' ? 600 : 300;
    const edges = ['e1', 'e2', 'e3'].map((e) => new FakeEdge({
      url: broker.url, edge: `${e}-${process.pid}`, batchSize: 50, window: 3,
      make: (edge, seq) => mixed(edge, seq, seq)[0]!,
    }));
    for (const e of edges) await e.start();
    t.teardown(async () => { for (const e of edges) await e.stop(); });
    await Promise.all(edges.map((e) => e.send(total)));

    for (const e of edges) {
      const edge = (e as unknown as { opts: { edge: string } }).opts.edge;
      t.same(await storedSeqs(ingest.store, edge), range(1, total), `${edge}: every seq stored exactly once`);
      t.equal(e.acked, total, `${edge}: acknowledged up to the last seq`);
      t.ok(e.acks.every((a, i) => i === 0 || a >= e.acks[i - 1]! || e.resends > 0), `${edge}: acks never go backwards`);
      const ev = await ingest.store.query<{ seq: string }>('SELECT seq FROM events WHERE edge = $1 ORDER BY time', [edge]);
      t.same(ev.map((r) => Number(r.seq)), range(1, total).filter((s) => s % 5 === 0), `${edge}: events in time order follow seq order`);
    }
    const c = ingest.counters();
    t.equal(c.rowsWritten, total * 3);
    t.equal(c.deadLetters, 0);
  });
}

t.test('an unparseable envelope is dead-lettered and acked; the next valid one is stored', async (t) => {
  const broker = await startAedes();
  t.teardown(() => broker.close());
  const store = new PgliteStore({ logger: createLogger({ level: 'silent' }) });
  const ingest = createIngestService({ ...quiet, port: 0, mqttUrl: broker.url, mqttProtocol: 4, clientId: `ingest-bad-${process.pid}`, maintenance: { enabled: false }, api: { edgeAuth: false } }, { store });
  await ingest.start();
  t.teardown(() => ingest.stop());
  const edge = new FakeEdge({ url: broker.url, edge: 'bad-edge', batchSize: 10, make: (e, s) => telemetry(e, s) });
  await edge.start();
  t.teardown(() => edge.stop());
  await edge.publishRaw('{"v":1,"edge":"bad-edge", this is not json');
  await edge.publishRaw(JSON.stringify({ v: 3, edge: 'bad-edge', site: 's', sentAt: 'x', messages: [] }));
  await edge.publishRaw(JSON.stringify({ v: 1, edge: 'other-edge', site: 's', sentAt: 'x', messages: [telemetry('other-edge', 1)] }));
  await edge.send(30);
  t.same(await storedSeqs(store, 'bad-edge'), range(1, 30));
  const dl = await waitFor(async () => {
    const rows = await store.query<{ code: string; reason: string; source: string }>(`SELECT code, reason, source FROM dead_letters WHERE seq IS NULL ORDER BY id`);
    return rows.length === 3 ? rows : null;
  });
  t.same(dl.map((d) => d.code), ['ERR_NOT_JSON', 'ERR_VALIDATION', 'ERR_EDGE_MISMATCH']);
  t.match(dl[1]!.reason, /\/v/, 'reason names the path');
  t.equal(dl[0]!.source, 'mqtt:edges/bad-edge/uplink');
  t.equal(ingest.counters().deadLetters, 3);
});
