/**
 * PgStore's group commit: envelopes that wait while a transaction runs share the next one; a failure of
 * one envelope in a group never decides the others'.
 */
import t from 'tap';
import { freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { PgStore, prepareEnvelope, type IngestBatch } from '@safe-community/cloud-ingest';
import { envelope, range, telemetry } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const db = await freshDatabase('group');
// One transaction at a time: everything that arrives meanwhile is grouped.
const store = new PgStore({ url: db.url, commitConcurrency: 1, logger: createLogger({ level: 'silent' }) });
await store.start();
t.teardown(async () => {
  await store.stop();
  await db.drop();
});

function batchOf(edge: string, msgs: unknown[]): IngestBatch {
  const p = prepareEnvelope(JSON.stringify(envelope(edge, msgs)), 'test', edge);
  if (p.kind !== 'batch') throw new Error(p.record.reason);
  return p.batch;
}

t.test('twenty edges at once: grouped, each result its own, every seq once', async (t) => {
  const edges = range(1, 20).map((i) => `g${i}`);
  const results = await Promise.all(edges.map((e, i) => store.writeBatch(batchOf(e, range(1, 50 + i).map((s) => telemetry(e, s))))));
  // A row's xmin is the transaction that wrote it: fewer distinct ones than envelopes means shared commits.
  const txs = await store.query<{ n: number }>(
    `SELECT count(DISTINCT xmin::text)::int AS n FROM telemetry WHERE edge = ANY($1::text[])`, [edges]);
  const txCount = txs[0]!.n;
  t.same(results.map((r) => r.upTo), edges.map((_, i) => 50 + i), 'each envelope got its own upTo');
  for (const [i, e] of edges.entries()) t.same(await storedSeqs(store, e), range(1, 50 + i), `${e} stored exactly`);
  t.ok(txCount < edges.length, `fewer transactions (${txCount}) than envelopes (${edges.length})`);
});

t.test('a refused record in a group: the others commit, the bad one is dead-lettered', async (t) => {
  const bad = telemetry('gb', 2) as { data: Record<string, unknown> };
  bad.data.time = '2026-02-30T00:00:00Z';
  const [ok1, badRes, ok2] = await Promise.all([
    store.writeBatch(batchOf('ga', [telemetry('ga', 1), telemetry('ga', 2)])),
    store.writeBatch(batchOf('gb', [telemetry('gb', 1), bad, telemetry('gb', 3)])),
    store.writeBatch(batchOf('gc', [telemetry('gc', 1)])),
  ]);
  t.equal(ok1.upTo, 2);
  t.equal(ok2.upTo, 1);
  t.match(badRes, { upTo: 3, deadLettered: 1 });
  t.same(await storedSeqs(store, 'gb'), [1, 2, 3]);
  t.same(await storedSeqs(store, 'ga'), [1, 2]);
});

t.test('the same edge twice in one group keeps its order', async (t) => {
  const [a, b, c] = await Promise.all([
    store.writeBatch(batchOf('gs', range(1, 10).map((s) => telemetry('gs', s)))),
    store.writeBatch(batchOf('gs', range(11, 20).map((s) => telemetry('gs', s)))),
    store.writeBatch(batchOf('gs', range(21, 30).map((s) => telemetry('gs', s)))),
  ]);
  t.same([a.upTo, b.upTo, c.upTo], [10, 20, 30]);
  t.same(await storedSeqs(store, 'gs'), range(1, 30));
});
