/**
 * Issue 16, item 4: the evidence queue on disk. Manifests survive a restart; over its bytes the queue drops
 * the oldest clips of the lowest severity first and a fire clip only when nothing else is left; the clip
 * being uploaded is never dropped; uploads go fire first.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@safe-community/runtime';
import { Evidence, EvidenceQueue, type ClipManifest } from '@safe-community/edge-agent';
import type { Severity } from '@safe-community/contracts';

const log = createLogger({ level: 'fatal' });

async function clip(dir: string, kind: string, severity: Severity, minute: number, bytes = 100): Promise<ClipManifest> {
  const id = randomUUID();
  const file = join(dir, `${id}.mp4`);
  await writeFile(file, Buffer.alloc(bytes));
  return {
    clip: id, camera: 'CAM1', triggerEventId: randomUUID(), triggerKind: kind, triggerDevice: 'D1', severity,
    eventAtMs: 0, fromMs: 0, toMs: 1, createdAt: `2026-12-03T10:${String(minute).padStart(2, '0')}:00.000Z`, state: 'queued', blurred: file,
    upload: { file, bytes, sha256: 'x'.repeat(64), blurred: true, startMs: 0, durationMs: 1 },
  };
}

t.test('over its bytes the queue drops oldest lowest-severity clips first and fire clips last', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evq-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const q = new EvidenceQueue(join(dir, 'queue'), log);
  const fireOld = await clip(dir, 'fire.alarm', 'critical', 1);
  const minorOld = await clip(dir, 'video.loitering', 'minor', 2);
  const minorNew = await clip(dir, 'video.loitering', 'minor', 5);
  const majorOld = await clip(dir, 'door.forced', 'major', 0);
  const fireNew = await clip(dir, 'fire.alarm', 'critical', 6);
  for (const m of [fireOld, minorOld, minorNew, majorOld, fireNew]) await q.save(m);

  t.same(q.pending().map((m) => m.clip), [fireOld.clip, fireNew.clip, majorOld.clip, minorOld.clip, minorNew.clip], 'uploads: fire first, then severity, then age');
  t.equal(q.bytes(), 500);

  const first = await q.enforce(300);
  t.same(first.map((m) => m.clip), [minorOld.clip, minorNew.clip], 'the two minor clips go, oldest first');
  await t.rejects(access(minorOld.blurred!), 'the dropped clip\'s file is deleted');
  t.match(q.get(minorOld.clip), { state: 'dropped', reason: /queue over 300 bytes/ });

  const second = await q.enforce(150, fireOld.clip);
  t.same(second.map((m) => m.clip), [majorOld.clip, fireNew.clip], 'the major clip before any fire clip; the fire clip uploading now is never dropped');
  t.same(q.pending().map((m) => m.clip), [fireOld.clip]);
  t.equal(q.dropped, 4, 'drops are counted');

  const again = new EvidenceQueue(join(dir, 'queue'), log);
  const loaded = await again.load();
  t.equal(loaded.length, 5, 'every manifest survives a restart');
  t.same(again.pending().map((m) => m.clip), [fireOld.clip], 'with its state');
  t.match(again.get(majorOld.clip), { state: 'dropped' });
});

t.test('under its bytes nothing is dropped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evq2-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const q = new EvidenceQueue(join(dir, 'queue'), log);
  await q.save(await clip(dir, 'door.forced', 'major', 1));
  t.same(await q.enforce(100), []);
  t.equal(q.pending().length, 1);
});

t.test('unblurred originals are deleted after keepOriginalDays; a finished clip\'s manifest goes with its original', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evq-expire-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const q = new EvidenceQueue(join(dir, 'queue'), log);
  const uploaded = { ...(await clip(dir, 'door.forced', 'major', 1)), state: 'uploaded' as const, original: join(dir, 'orig-1.mp4') };
  const waiting = { ...(await clip(dir, 'fire.alarm', 'critical', 2)), original: join(dir, 'orig-2.mp4') };
  const fresh = { ...(await clip(dir, 'door.forced', 'major', 3)), state: 'uploaded' as const, original: join(dir, 'orig-3.mp4'), createdAt: '2026-12-10T12:00:00.000Z' };
  for (const m of [uploaded, waiting, fresh]) {
    await writeFile(m.original, 'original video');
    await q.save(m);
  }
  // The two old clips were made on 2026-12-03 10:0x; the clock says eight days later.
  const clock = { now: () => Date.parse('2026-12-11T12:00:00Z'), setTimeout: () => 0, clearTimeout: () => undefined };
  const evidence = new Evidence({
    site: 's', edge: 'e', dir, cameras: [], tagsOf: () => undefined, sink: { append: async () => 1 }, upload: null, clock, log,
    settings: {
      preSec: 10, postSec: 20, ringSeconds: 60, ringMaxBytes: 1 << 26, segmentSec: 2, keepOriginalDays: 7, queueMaxBytes: 1 << 30,
      sendUnblurred: false, blurEveryFrames: 2, triggers: { kinds: [], minSeverity: null, ignore: [] },
    },
  });
  await evidence.start();
  t.teardown(() => evidence.stop());
  await t.rejects(access(uploaded.original), 'the uploaded clip\'s original is gone');
  t.equal(evidence.queue.get(uploaded.clip), undefined, 'and its manifest');
  await t.rejects(access(waiting.original), 'the waiting clip\'s original is gone too');
  t.match(evidence.queue.get(waiting.clip), { state: 'queued' }, 'but the clip still waits to upload');
  t.equal(evidence.queue.get(waiting.clip)?.original, undefined);
  await access(fresh.original);
  t.pass('a clip inside its keeping time keeps its original');
  t.match(evidence.health(), { state: 'degraded', reason: /no upload URL/ }, 'health says why the clip waits');
});
