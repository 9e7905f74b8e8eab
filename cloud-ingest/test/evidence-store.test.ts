/**
 * The file evidence store on a real folder: uploads in parts, resumable by size, checked by sha256, read by
 * range; every name it is given is checked, so nothing outside a site's own folder can be reached.
 */
import t from 'tap';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileEvidenceStore } from '@safe-community/cloud-ingest';

const dir = await mkdtemp(join(tmpdir(), 'evidence-store-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const store = new FileEvidenceStore(dir);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const drain = async (s: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(p as Buffer);
  return Buffer.concat(parts);
};

t.test('append, finalize and read back by range', async (t) => {
  const data = randomBytes(10_000);
  const key = { site: 'site-a', clip: randomUUID() };
  t.equal(await store.partialSize(key), 0);
  t.equal(await store.append(key, 0, data.subarray(0, 4000)), 4000);
  await t.rejects(store.append(key, 3000, data.subarray(3000, 5000)), { code: 'ERR_EVIDENCE_OFFSET', upTo: 4000 });
  t.equal(await store.append(key, 4000, data.subarray(4000)), 10_000);
  const stored = await store.finalize(key, { bytes: 10_000, sha256: sha(data) }, '2026-12-03');
  t.same(stored, { storageKey: `site-a/2026-12-03/${key.clip}.mp4`, bytes: 10_000, sha256: sha(data) });
  t.same(await store.stat(stored.storageKey, 'site-a'), { bytes: 10_000 });
  t.ok((await drain(await store.read(stored.storageKey, 'site-a'))).equals(data));
  t.ok((await drain(await store.read(stored.storageKey, 'site-a', { start: 100, end: 199 }))).equals(data.subarray(100, 200)));
  t.same((await store.list({ site: 'site-a' })).map((o) => o.clip), [key.clip]);
  t.same(await store.list({ site: 'site-a', before: new Date(Date.now() - 60_000) }), [], 'nothing older than a minute');
  await store.delete(stored.storageKey, 'site-a');
  t.equal(await store.stat(stored.storageKey, 'site-a'), null);
  await t.rejects(store.read(stored.storageKey, 'site-a'), { code: 'ERR_EVIDENCE_NOT_FOUND' });
});

t.test('a size or hash mismatch discards the upload', async (t) => {
  const data = randomBytes(1000);
  const key = { site: 'site-a', clip: randomUUID() };
  await store.append(key, 0, data);
  await t.rejects(store.finalize(key, { bytes: 1000, sha256: sha(randomBytes(10)) }, '2026-12-03'), { code: 'ERR_EVIDENCE_HASH' });
  t.equal(await store.partialSize(key), 0);
  await store.append(key, 0, data);
  await t.rejects(store.finalize(key, { bytes: 2000, sha256: sha(data) }, '2026-12-03'), { code: 'ERR_EVIDENCE_HASH', message: /1000 bytes, 2000 announced/ });
});

t.test('names that could leave a site\'s folder are refused before any file is touched', async (t) => {
  const outside = join(dir, 'outside.mp4');
  await writeFile(outside, 'secret');
  const clip = randomUUID();
  for (const site of ['..', '../x', 'a/b', '.hidden', '', 'x'.repeat(65)]) {
    await t.rejects(store.append({ site, clip }, 0, Buffer.from('x')), { code: 'ERR_EVIDENCE_KEY' }, `site ${JSON.stringify(site)}`);
  }
  for (const bad of ['../../etc/passwd', `${clip}/../x`, clip.toUpperCase(), 'not-a-uuid']) {
    await t.rejects(store.append({ site: 'site-a', clip: bad }, 0, Buffer.from('x')), { code: 'ERR_EVIDENCE_KEY' }, `clip ${bad}`);
  }
  for (const key of ['outside.mp4', `site-b/2026-12-03/${clip}.mp4`, `site-a/../outside.mp4`, `site-a/2026-12-03/../../outside.mp4`, `site-a/.partial/${clip}.mp4`]) {
    await t.rejects(store.read(key, 'site-a'), { code: 'ERR_EVIDENCE_KEY' }, `key ${key}`);
    await t.rejects(store.delete(key, 'site-a'), { code: 'ERR_EVIDENCE_KEY' });
  }
  await t.rejects(store.finalize({ site: 'site-a', clip }, { bytes: 1, sha256: 'x' }, '../..'), { code: 'ERR_EVIDENCE_KEY' });
  t.ok((await readdir(dir)).includes('outside.mp4'), 'the file outside is untouched');
});

t.test('unfinished uploads are listed with their age, for the retention sweep', async (t) => {
  const key = { site: 'site-p', clip: randomUUID() };
  await store.append(key, 0, Buffer.from('partial'));
  t.same((await store.listPartials({ site: 'site-p' })).map((p) => [p.site, p.clip, p.bytes]), [['site-p', key.clip, 7]]);
  t.same(await store.listPartials({ before: new Date(Date.now() - 60_000) }), []);
  t.same(await store.health(), { ok: true });
});
