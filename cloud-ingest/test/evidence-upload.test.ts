/**
 * Issue 16: resumable evidence uploads on the HTTP ingest, against a real PostgreSQL and a real folder, with
 * the edges' own credentials. Each case follows the edge↔cloud contract: offsets, resends, hash and size.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, clipOf, headClip, putChunk, startEvidenceIngest, uploadAll } from './helpers/evidence.js';

const { ingest, dir, base } = await startEvidenceIngest(t, 'ev_upload', { evidence: { maxClipBytes: 1024 * 1024 } });
const secretA = await ingest.edges.issue('edge-a1', 'site-a');
const secretA2 = await ingest.edges.issue('edge-a2', 'site-a');
const secretB = await ingest.edges.issue('edge-b1', 'site-b');
const authA = basic('edge-a1', secretA);
const row = async (clip: string): Promise<Record<string, unknown> | undefined> =>
  (await ingest.store.query('SELECT site, edge, camera, status, bytes, sha256, storage_key, blurred, duration_ms FROM evidence_clips WHERE clip = $1', [clip]))[0];
const today = (): string => new Date().toISOString().slice(0, 10);

t.test('a clip sent in chunks is stored byte for byte under its site and recorded under the edge\'s identity', async (t) => {
  const c = clipOf(randomBytes(250_000));
  t.same(await uploadAll(base, c, 100_000, authA), [202, 202, 201]);
  const stored = await readFile(join(dir, 'site-a', today(), `${c.clip}.mp4`));
  t.ok(stored.equals(c.data), 'the stored file is the clip');
  t.match(await row(c.clip), { site: 'site-a', edge: 'edge-a1', camera: 'cam-gate', status: 'ready', sha256: c.sha256, storage_key: `site-a/${today()}/${c.clip}.mp4`, blurred: true, duration_ms: 30_000 });
  t.equal(Number((await row(c.clip))!.bytes), 250_000);
  const h = await headClip(base, c.clip, authA);
  t.equal(h.status, 200);
  t.equal(h.headers.get('upload-offset'), '250000');
  t.equal(h.headers.get('upload-complete'), '1');
});

t.test('an authenticated edge cannot name another site or edge in headers: its identity decides', async (t) => {
  const c = clipOf(randomBytes(2000));
  const r = await putChunk(base, c, 0, 1999, authA, { 'evidence-site': 'site-b', 'evidence-edge': 'edge-b1' });
  t.equal(r.status, 201);
  t.match(await row(c.clip), { site: 'site-a', edge: 'edge-a1' });
  t.ok((await readFile(join(dir, 'site-a', today(), `${c.clip}.mp4`))).equals(c.data), 'stored in its own site\'s folder');
});

t.test('an upload stopped half way resumes from the offset HEAD reports', async (t) => {
  const c = clipOf(randomBytes(120_000));
  t.equal((await headClip(base, c.clip, authA)).status, 404, 'nothing of it yet');
  const first = await putChunk(base, c, 0, 59_999, authA);
  t.equal(first.status, 202);
  t.equal(first.headers.get('upload-offset'), '60000');
  const h = await headClip(base, c.clip, authA);
  t.equal(h.status, 200);
  t.equal(h.headers.get('upload-offset'), '60000');
  t.equal(h.headers.get('upload-complete'), '0');
  const last = await putChunk(base, c, 60_000, 119_999, authA);
  t.equal(last.status, 201);
  t.same(await last.json(), { clip: c.clip, bytes: 120_000 });
  t.ok((await readFile(join(dir, 'site-a', today(), `${c.clip}.mp4`))).equals(c.data));
});

t.test('a chunk that does not start at the offset is 409 with the offset; a chunk sent again is 200', async (t) => {
  const c = clipOf(randomBytes(30_000));
  t.equal((await putChunk(base, c, 0, 9_999, authA)).status, 202);
  const ahead = await putChunk(base, c, 20_000, 29_999, authA);
  t.equal(ahead.status, 409);
  t.equal(ahead.headers.get('upload-offset'), '10000');
  t.match(await ahead.json(), { code: 'ERR_EVIDENCE_OFFSET', upTo: 10_000 });
  const overlapping = await putChunk(base, c, 5_000, 14_999, authA);
  t.equal(overlapping.status, 409, 'a chunk straddling the offset is refused too');
  const again = await putChunk(base, c, 0, 9_999, authA);
  t.equal(again.status, 200, 'idempotent resend');
  t.equal(again.headers.get('upload-offset'), '10000');
  t.equal((await putChunk(base, c, 10_000, 29_999, authA)).status, 201);
  const resent = await putChunk(base, c, 10_000, 29_999, authA);
  t.equal(resent.status, 200, 'the last chunk sent again after completion');
  t.equal(resent.headers.get('upload-complete'), '1');
  t.ok((await readFile(join(dir, 'site-a', today(), `${c.clip}.mp4`))).equals(c.data), 'the file is unchanged');
});

t.test('a clip whose bytes do not match its sha256 is 422 and discarded; the edge starts again from 0', async (t) => {
  const c = clipOf(randomBytes(20_000));
  const wrong = { ...c, sha256: 'ab'.repeat(32) };
  t.equal((await putChunk(base, wrong, 0, 9_999, authA)).status, 202);
  const last = await putChunk(base, wrong, 10_000, 19_999, authA);
  t.equal(last.status, 422);
  t.match(await last.json(), { code: 'ERR_EVIDENCE_HASH' });
  t.equal((await headClip(base, c.clip, authA)).status, 404, 'nothing kept');
  t.equal(await row(c.clip), undefined, 'no row');
  t.same(await uploadAll(base, c, 10_000, authA), [202, 201], 'sent again with the right hash');
});

t.test('a clip made again with other bytes replaces the unfinished upload of the old one', async (t) => {
  const first = clipOf(randomBytes(20_000));
  t.equal((await putChunk(base, first, 0, 9_999, authA)).status, 202);
  const remade = { ...clipOf(randomBytes(30_000)), clip: first.clip, trigger: first.trigger };
  const mid = await putChunk(base, remade, 10_000, 19_999, authA);
  t.equal(mid.status, 409, 'a chunk past 0 of the new file goes back to 0');
  t.match(await mid.json(), { code: 'ERR_EVIDENCE_OFFSET', upTo: 0 });
  t.equal((await headClip(base, first.clip, authA)).status, 404, 'the old bytes are gone');
  t.same(await uploadAll(base, remade, 15_000, authA), [202, 201]);
  t.ok((await readFile(join(dir, 'site-a', today(), `${first.clip}.mp4`))).equals(remade.data), 'the new file is stored');
  t.equal(Number((await row(first.clip))!.bytes), 30_000);
});

t.test('a clip over the maximum size is 413 before its body is stored', async (t) => {
  const c = clipOf(randomBytes(2048));
  const r = await putChunk(base, c, 0, 2047, authA, { 'content-range': `bytes 0-2047/${2 * 1024 * 1024}` });
  t.equal(r.status, 413);
  t.match(await r.json(), { code: 'ERR_EVIDENCE_TOO_LARGE', message: /1048576/ });
  t.equal(await row(c.clip), undefined);
});

t.test('a chunk over 8 MiB is 413', async (t) => {
  const big = await startEvidenceIngest(t, 'ev_upload_big');
  const secret = await big.ingest.edges.issue('edge-x', 'site-x');
  const c = clipOf(randomBytes(9 * 1024 * 1024));
  const r = await putChunk(big.base, c, 0, c.data.length - 1, basic('edge-x', secret));
  t.equal(r.status, 413);
  t.match(await r.json(), { code: 'ERR_EVIDENCE_CHUNK_TOO_LARGE' });
});

t.test('an unblurred clip is refused while the site does not allow them', async (t) => {
  const c = clipOf(randomBytes(1000), { blurred: false });
  const r = await putChunk(base, c, 0, 999, authA);
  t.equal(r.status, 403);
  t.match(await r.json(), { code: 'ERR_EVIDENCE_UNBLURRED' });
  t.equal(await row(c.clip), undefined);
});

t.test('bad headers are 400 naming the header', async (t) => {
  const c = clipOf(randomBytes(1000));
  const r = await putChunk(base, c, 0, 999, authA, { 'evidence-severity': 'apocalyptic', 'evidence-trigger': 'not-a-uuid' });
  t.equal(r.status, 400);
  const body = await r.json() as { code: string; issues: Array<{ path: string }> };
  t.equal(body.code, 'ERR_VALIDATION');
  t.same(body.issues.map((i) => i.path).sort(), ['evidence-severity', 'evidence-trigger']);
  const range = await putChunk(base, c, 0, 999, authA, { 'content-range': 'bytes 0-999/500' });
  t.match(await range.json(), { code: 'ERR_VALIDATION', issues: [{ path: 'content-range' }] });
  const short = await putChunk(base, c, 0, 999, authA, {}, c.data.subarray(0, 10));
  t.equal(short.status, 400, 'a body shorter than its range');
  const notUuid = await fetch(`${base}/ingest/v1/evidence/..%2F..%2Fetc`, { method: 'PUT', headers: { authorization: authA, 'content-type': 'application/octet-stream' }, body: 'x' });
  t.equal(notUuid.status, 400);
});

t.test('without credentials, or with wrong ones, nothing is read or written', async (t) => {
  const c = clipOf(randomBytes(1000));
  for (const auth of [undefined, basic('edge-a1', 'guess'), basic('edge-a1', secretB)]) {
    t.equal((await putChunk(base, c, 0, 999, auth)).status, 401);
    t.equal((await headClip(base, c.clip, auth)).status, 401);
  }
  t.equal(await row(c.clip), undefined);
});

t.test("another edge, of the same site or another, cannot read or add to an edge's clip", async (t) => {
  const c = clipOf(randomBytes(20_000));
  t.equal((await putChunk(base, c, 0, 9_999, authA)).status, 202);
  for (const auth of [basic('edge-a2', secretA2), basic('edge-b1', secretB)]) {
    t.equal((await headClip(base, c.clip, auth)).status, 404, 'its upload is invisible');
    const r = await putChunk(base, c, 10_000, 19_999, auth);
    t.equal(r.status, 403);
    t.match(await r.json(), { code: 'ERR_EVIDENCE_NOT_YOURS' });
  }
  t.equal((await headClip(base, c.clip, authA)).headers.get('upload-offset'), '10000', 'the owner\'s upload is untouched');
  t.equal((await putChunk(base, c, 10_000, 19_999, authA)).status, 201);
});

t.test('a store that cannot be written answers 503 and the edge keeps its clip', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'evidence-broken-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const notAFolder = join(scratch, 'file');
  await writeFile(notAFolder, 'x');
  const down = await startEvidenceIngest(t, 'ev_upload_down', { evidence: { dir: notAFolder } });
  const secret = await down.ingest.edges.issue('edge-d', 'site-d');
  const c = clipOf(randomBytes(1000));
  const r = await putChunk(down.base, c, 0, 999, basic('edge-d', secret));
  t.equal(r.status, 503);
  t.match(await r.json(), { code: 'ERR_STORE_UNAVAILABLE' });
  t.equal((await headClip(down.base, c.clip, basic('edge-d', secret))).status, 503);
  const health = await fetch(`${down.base}/health`);
  t.equal(health.status, 200, 'the ingest itself is up');
  t.match(await health.json(), { status: 'degraded', parts: { evidence: { state: 'degraded', reason: /not writable/ }, store: { state: 'up' } } });
});

t.test('/health and /metrics report the evidence uploads', async (t) => {
  t.match(await (await fetch(`${base}/health`)).json(), { parts: { evidence: { state: 'up' } } });
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (line: RegExp): number => Number(line.exec(text)?.[1] ?? -1);
  t.ok(value(/^ingest_evidence_clips_total\{result="stored"\} (\d+)$/m) >= 5, 'clips stored whole');
  t.ok(value(/^ingest_evidence_clips_total\{result="hash_mismatch"\} (\d+)$/m) >= 1, 'the hash mismatch');
  t.ok(value(/^ingest_evidence_clips_total\{result="refused"\} (\d+)$/m) >= 3, 'refused chunks');
  t.ok(value(/^ingest_evidence_bytes_total (\d+)$/m) >= 250_000 + 120_000 + 30_000, 'bytes stored');
  t.ok(value(/^ingest_evidence_chunks_total (\d+)$/m) >= 8, 'chunks taken');
});

t.test('without an evidence folder configured uploads are 503 naming the setting', async (t) => {
  const none = await startEvidenceIngest(t, 'ev_upload_none', { evidence: { dir: null } });
  const secret = await none.ingest.edges.issue('edge-n', 'site-n');
  const r = await putChunk(none.base, clipOf(randomBytes(100)), 0, 99, basic('edge-n', secret));
  t.equal(r.status, 503);
  t.match(await r.json(), { code: 'ERR_EVIDENCE_NOT_CONFIGURED', message: /EVIDENCE_DIR/ });
});

t.test('with edge authentication off (development) the edge names itself in headers, held to a registered site', async (t) => {
  const dev = await startEvidenceIngest(t, 'ev_upload_dev', { api: { adminToken: null, edgeAuth: false } });
  await dev.ingest.edges.issue('edge-r', 'site-r');
  const c = clipOf(randomBytes(5000));
  const missing = await putChunk(dev.base, c, 0, 4999);
  t.equal(missing.status, 400);
  t.match(await missing.json(), { issues: [{ path: 'evidence-edge' }] });
  const lying = await putChunk(dev.base, c, 0, 4999, undefined, { 'evidence-edge': 'edge-r', 'evidence-site': 'site-other' });
  t.equal(lying.status, 403);
  t.match(await lying.json(), { code: 'ERR_SITE_MISMATCH' });
  const ok = await putChunk(dev.base, c, 0, 4999, undefined, { 'evidence-edge': 'edge-dev', 'evidence-site': 'site-dev' });
  t.equal(ok.status, 201);
  t.equal((await headClip(dev.base, c.clip, undefined, { 'evidence-edge': 'edge-dev', 'evidence-site': 'site-dev' })).headers.get('upload-complete'), '1');
  t.ok((await readFile(join(dev.dir, 'site-dev', today(), `${c.clip}.mp4`))).equals(c.data));
});
