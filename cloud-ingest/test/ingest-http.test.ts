/** HTTP ingest for edges that only do HTTPS, and /health. */
import t from 'tap';
import { freshDatabase } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { envelope, range, telemetry, event } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const db = await freshDatabase('http');
const ingest = createIngestService({ logLevel: 'silent', port: 0, databaseUrl: db.url, maintenance: { enabled: false }, api: { edgeAuth: false } });
await ingest.start();
t.teardown(async () => {
  await ingest.stop();
  await db.drop();
});
const base = `http://127.0.0.1:${ingest.address().port}`;
const post = (body: unknown, raw = false) => fetch(`${base}/ingest/v1/envelopes`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body),
});

t.test('health is 200 with the store up and MQTT not configured', async (t) => {
  const r = await fetch(`${base}/health`);
  t.equal(r.status, 200);
  t.same(await r.json(), {
    status: 'up',
    parts: { evidence: { state: 'up', reason: 'not configured' }, ingest: { state: 'up' }, maintenance: { state: 'up' }, mqtt: { state: 'up', reason: 'not configured' }, store: { state: 'up' } },
  });
});

t.test('a valid envelope answers upTo; a resend is idempotent', async (t) => {
  const msgs = range(1, 20).map((s) => (s % 4 === 0 ? event('h1', s) : telemetry('h1', s)));
  const r = await post(envelope('h1', msgs));
  t.equal(r.status, 200);
  t.match(await r.json(), { upTo: 20, duplicates: 0, rejected: [] });
  const again = await post(envelope('h1', msgs));
  t.match(await again.json(), { upTo: 20, duplicates: 20 });
  t.same(await storedSeqs(ingest.store, 'h1'), range(1, 20));
});

t.test('an invalid record is dead-lettered and named in the answer; its neighbours are stored', async (t) => {
  const bad = telemetry('h2', 2) as { data: Record<string, unknown> };
  delete bad.data.metric;
  const r = await post(envelope('h2', [telemetry('h2', 1), bad, telemetry('h2', 3)]));
  t.equal(r.status, 200);
  const body = await r.json() as { upTo: number; rejected: Array<{ seq: number; code: string; reason: string }> };
  t.equal(body.upTo, 3);
  t.equal(body.rejected.length, 1);
  t.match(body.rejected[0], { seq: 2, code: 'ERR_VALIDATION', reason: /\/messages\/1\/data\/metric/ });
  t.same(await storedSeqs(ingest.store, 'h2'), [1, 2, 3], 'the bad record is accounted for at its seq');
});

t.test('a bad envelope is 400 with a stable code and path + reason, and recorded', async (t) => {
  const r = await post('{"v":1,', true);
  t.equal(r.status, 400);
  t.match(await r.json(), { code: 'ERR_NOT_JSON', issues: [{ path: '', reason: /not JSON/ }] });
  const r2 = await post({ v: 1, edge: 'h3', site: 's', sentAt: 'now', messages: [], extra: 1 });
  t.equal(r2.status, 400);
  const body = await r2.json() as { code: string; issues: Array<{ path: string }> };
  t.equal(body.code, 'ERR_VALIDATION');
  t.ok(body.issues.some((i) => i.path === '/messages'), 'empty messages named');
  const dl = await ingest.store.query<{ code: string; source: string }>(`SELECT code, source FROM dead_letters WHERE source = 'http' AND seq IS NULL ORDER BY id`);
  t.same(dl.map((d) => d.code), ['ERR_NOT_JSON', 'ERR_VALIDATION']);
});

t.test('a batch past a gap is 409 with the current upTo; nothing is written', async (t) => {
  await post(envelope('h4', [telemetry('h4', 1)]));
  const r = await post(envelope('h4', [telemetry('h4', 5)]));
  t.equal(r.status, 409);
  t.match(await r.json(), { code: 'ERR_SEQ_GAP', upTo: 1 });
  t.same(await storedSeqs(ingest.store, 'h4'), [1]);
});

t.test('a start that fails (port taken) leaves nothing running and can be retried elsewhere', async (t) => {
  const taken = ingest.address().port;
  const other = createIngestService({ logLevel: 'silent', port: taken, databaseUrl: db.url, maintenance: { enabled: false }, api: { edgeAuth: false } });
  await t.rejects(other.start(), { code: 'EADDRINUSE' });
  t.same(await other.store.health(), { ok: false, detail: 'the PostgreSQL store is not started' }, 'its store was stopped again');
});
