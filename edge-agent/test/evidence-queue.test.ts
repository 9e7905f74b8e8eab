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
import { EvidenceQueue, type ClipManifest } from '@safe-community/edge-agent';
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
