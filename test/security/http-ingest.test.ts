/**
 * Issue 12, item 1, on the HTTP ingest with its default settings: every edge has its own credential, and
 * the edge and site of what it sends come from that credential. Each attack is refused, stores nothing,
 * changes no cursor, and leaves a dead letter.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { configFromEnv, loadConfig } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { waitFor } from '@safe-community/testkit';
import { basic, count, envelopeOf, fireEvent, postEnvelope, startIngest } from './fixtures/ingest.js';

const ingest = await startIngest(t, 'sec_http');
const secretA = await ingest.edges.issue('edge-a1', 'site-a');
const secretB = await ingest.edges.issue('edge-b1', 'site-b');
const stored = (): Promise<number> => count(ingest, 'SELECT count(*) FROM events');
const cursor = async (edge: string): Promise<unknown> => (await ingest.store.query('SELECT last_seq, epoch FROM edge_cursor WHERE edge = $1', [edge]))[0] ?? null;
const deadLetters = (code: string): Promise<number> => count(ingest, 'SELECT count(*) FROM dead_letters WHERE code = $1', [code]);
/** A refusal's dead letter is written after the answer (a refused request never waits on the database). */
const deadLettersReach = (code: string, n: number): Promise<number> =>
  waitFor(async () => { const c = await deadLetters(code); return c >= n ? c : 0; }, { what: `${n} ${code} dead letters` });

t.test('edge authentication is on by default; turning it off must be said explicitly', async (t) => {
  t.equal(loadConfig({}).api.edgeAuth, true);
  t.equal(configFromEnv({ INGEST_EDGE_AUTH: '0' }).api?.edgeAuth, false);
  t.throws(() => configFromEnv({ INGEST_EDGE_AUTH: 'maybe' }), { code: 'ERR_CONFIG', message: /INGEST_EDGE_AUTH.*1, true, 0, false/ });
});

t.test('an anonymous fake fire alarm is refused with 401 and stores nothing', async (t) => {
  const before = await deadLetters('ERR_UNAUTHENTICATED');
  for (const auth of [undefined, basic('edge-b1', 'guess'), basic('edge-b1', secretA), `Bearer ${secretB}`]) {
    const r = await postEnvelope(ingest, envelopeOf('edge-b1', 'site-b', [fireEvent('edge-b1', 'site-b', 1, randomUUID())]), auth);
    t.equal(r.status, 401, `refused: ${auth ? auth.split(' ')[0] : 'no credentials'}`);
  }
  t.equal(await stored(), 0, 'no event stored');
  t.equal(await count(ingest, 'SELECT count(*) FROM alarms'), 0, 'no alarm escalating');
  t.same(await cursor('edge-b1'), null, 'no cursor moved');
  t.equal(await deadLettersReach('ERR_UNAUTHENTICATED', before + 4) - before, 4, 'each attempt recorded');
});

t.test("an edge cannot push another edge's sequence or epoch ahead", async (t) => {
  const junk = envelopeOf('edge-b1', 'site-b', [fireEvent('edge-b1', 'site-b', 1, randomUUID())], 'forged-epoch-1');
  const r = await postEnvelope(ingest, junk, basic('edge-a1', secretA));
  t.equal(r.status, 403);
  t.match(await r.json(), { code: 'ERR_EDGE_MISMATCH' });
  t.same(await cursor('edge-b1'), null, "edge B's cursor and epoch untouched");
  t.equal(await deadLettersReach('ERR_EDGE_MISMATCH', 1), 1, 'dead-lettered with the reason');
  // The real edge B then delivers its first fire alarm, which must not count as a duplicate.
  const real = await postEnvelope(ingest, envelopeOf('edge-b1', 'site-b', [fireEvent('edge-b1', 'site-b', 1, randomUUID())], 'real-epoch'), basic('edge-b1', secretB));
  t.equal(real.status, 200);
  t.match(await real.json(), { upTo: 1, duplicates: 0 });
  t.equal(await stored(), 1, "edge B's real alarm is stored");
});

t.test('an edge cannot write for another site, in the envelope or in a record', async (t) => {
  const r = await postEnvelope(ingest, envelopeOf('edge-a1', 'site-b', [fireEvent('edge-a1', 'site-b', 1, randomUUID())]), basic('edge-a1', secretA));
  t.equal(r.status, 403);
  t.match(await r.json(), { code: 'ERR_SITE_MISMATCH', message: /belongs to site site-a/ });
  t.equal(await deadLettersReach('ERR_SITE_MISMATCH', 1), 1);
  const mixed = await postEnvelope(ingest, envelopeOf('edge-a1', 'site-a', [fireEvent('edge-a1', 'site-a', 1, randomUUID()), fireEvent('edge-a1', 'site-b', 2, randomUUID())]), basic('edge-a1', secretA));
  t.equal(mixed.status, 200);
  t.match(await mixed.json(), { upTo: 2, rejected: [{ seq: 2, code: 'ERR_VALIDATION' }] });
  t.equal(await count(ingest, "SELECT count(*) FROM events WHERE site = 'site-b'"), 1, "only edge B's own event is on site B");
});

t.test('a rotated secret: both work during the grace period, the old one is refused after it', async (t) => {
  const next = await ingest.edges.issue('edge-a1', 'site-a', { graceS: 3600 });
  const env = (seq: number) => envelopeOf('edge-a1', 'site-a', [fireEvent('edge-a1', 'site-a', seq, randomUUID())]);
  t.equal((await postEnvelope(ingest, env(3), basic('edge-a1', secretA))).status, 200, 'old secret inside the grace period');
  t.equal((await postEnvelope(ingest, env(4), basic('edge-a1', next))).status, 200, 'new secret');
  const last = await ingest.edges.issue('edge-a1', 'site-a', { graceS: 0 });
  t.equal((await postEnvelope(ingest, env(5), basic('edge-a1', next))).status, 401, 'replaced without grace: refused');
  t.equal((await postEnvelope(ingest, env(5), basic('edge-a1', last))).status, 200);
  const rows = await ingest.store.query<{ secret_hash: string }>("SELECT secret_hash FROM edge_credentials WHERE edge = 'edge-a1'");
  t.not(rows[0]?.secret_hash, last, 'only a hash is stored');
});

t.test('turning edge auth off is said loudly; credentials never reach the log', async (t) => {
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  const dev = await startIngest(t, 'sec_http_dev', { api: { edgeAuth: false } }, createLogger({ level: 'info', destination: sink }));
  const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes('INGEST_EDGE_AUTH is off'));
  t.ok(warn && warn.level >= 40, 'a warning names the setting at start');
  t.equal((await postEnvelope(dev, envelopeOf('edge-z', 'site-z', [fireEvent('edge-z', 'site-z', 1, randomUUID())]))).status, 200, 'and anonymous envelopes are then taken');
  const secret = await dev.edges.issue('edge-y', 'site-y');
  await postEnvelope(dev, envelopeOf('edge-y', 'site-y', [fireEvent('edge-y', 'site-y', 1, randomUUID())]), basic('edge-y', secret));
  t.notOk(lines.some((l) => l.includes(secret) || l.includes(Buffer.from(`edge-y:${secret}`).toString('base64'))), 'no secret in any log line');
});
