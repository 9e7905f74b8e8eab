/**
 * Issue 16, item 1: the ring recorder copies a real RTSP stream (the simulated camera's source) into
 * segments with wall-clock spans, keeps them within its seconds and bytes, and reports a dead stream in
 * its health and restarts.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_DIR, waitFor } from '@safe-community/testkit';
import { RtspLoopSource } from '@safe-community/simulators/camera';
import { RingRecorder } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

const log = createLogger({ level: 'fatal' });
// Real RTSP, ffmpeg and the face model on a shared 2-core box: a loaded machine needs more than the suite's 120 s.
t.setTimeout(240000);

async function rtsp(t: Test): Promise<RtspLoopSource> {
  const src = new RtspLoopSource({ file: join(MEDIA_DIR, 'vtest_20s_h264.mp4') });
  await src.start();
  t.teardown(() => src.stop());
  return src;
}

t.test('segments carry wall-clock spans and the ring keeps only its seconds', async (t) => {
  const src = await rtsp(t);
  const dir = await mkdtemp(join(tmpdir(), 'ring-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const written: number[] = [];
  const rec = new RingRecorder({
    camera: 'CAM1', dir, resolveInput: async () => src.baseUrl, segmentSec: 2, keepMs: 5000, maxBytes: 64 * 1024 * 1024, log,
    observer: { segmentWritten: (_c, bytes) => written.push(bytes), recorderRestarted: () => undefined },
  });
  const startedAt = Date.now();
  await rec.start();
  t.teardown(() => rec.stop());
  await waitFor(() => rec.stats().segments >= 6, { what: 'six segments', timeoutMs: 40_000 });
  const segs = rec.index.list();
  const now = Date.now();
  t.ok(segs.length <= 5, `at most keep (5 s) / 2 s + 2 segments kept, has ${segs.length}`);
  t.ok(segs.every((s) => s.endMs >= now - 5000 - 2500), 'nothing older than the ring\'s seconds (plus the segment being closed)');
  const files = await rec.files();
  const indexed = new Set(segs.map((s) => s.file.split('/').pop()));
  t.ok(segs.every((s) => files.includes(s.file.split('/').pop()!)), 'every indexed segment is on disk');
  t.ok(files.filter((f) => !indexed.has(f)).length <= 1, 'old segment files are deleted from disk: only the one being written is not indexed');
  for (let i = 1; i < segs.length; i++) t.ok(Math.abs(segs[i]!.startMs - segs[i - 1]!.endMs) <= 100, 'segments follow each other without a gap (the run\'s zero is refined by a few ms as lines arrive)');
  t.ok(segs[0]!.startMs > startedAt - 1000, 'wall-clock starts are after the recorder started');
  const last = segs.at(-1)!;
  t.ok(last.endMs <= now + 50 && last.endMs > now - 3000, 'the newest segment ends about now');
  t.ok(segs.every((s) => s.endMs - s.startMs >= 1500 && s.endMs - s.startMs <= 4500), 'about two seconds each (cut on keyframes)');
  t.equal(written.length, rec.stats().segments, 'each segment counted');
  t.equal((await stat(last.file)).size, last.bytes);
  t.same(rec.state(), { state: 'up' });
});

t.test('the ring keeps within its bytes, and a dead stream shows in health and restarts', async (t) => {
  const src = await rtsp(t);
  const dir = await mkdtemp(join(tmpdir(), 'ring-bytes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let restarts = 0;
  const rec = new RingRecorder({
    camera: 'CAM2', dir, resolveInput: async () => src.baseUrl, segmentSec: 2, keepMs: 60_000, maxBytes: 500_000, log,
    retry: { initialMs: 200, maxMs: 1000 }, stallMs: 6000,
    observer: { segmentWritten: () => undefined, recorderRestarted: () => { restarts++; } },
  });
  await rec.start();
  t.teardown(() => rec.stop());
  await waitFor(() => rec.stats().segments >= 5, { what: 'five segments', timeoutMs: 40_000 });
  t.ok(rec.index.bytes <= 500_000, `bytes bound held (${rec.index.bytes})`);
  t.ok((await rec.files()).length <= 4, 'two or three ~200 kB segments fit in 500 kB (plus the one being written)');

  await src.stop();
  const down = await waitFor(() => (rec.state().state === 'degraded' ? rec.state() : null), { what: 'recorder degraded', timeoutMs: 30_000 });
  t.match(down.reason, /the stream ended|ffmpeg exited|no segment/, `says why: ${down.reason}`);
  await waitFor(() => restarts >= 1, { what: 'a restart counted' });
  await src.start();
  const before = rec.stats().segments;
  await waitFor(() => rec.stats().segments > before && rec.state().state === 'up', { what: 'recording again', timeoutMs: 40_000 });
  t.pass('recording resumed when the stream came back');
});

t.test('a box without ffmpeg: the recorder is degraded with the reason, never down, and keeps trying', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ring-noffmpeg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const rec = new RingRecorder({
    camera: 'CAM3', dir, resolveInput: async () => 'rtsp://127.0.0.1:9/none', segmentSec: 2, keepMs: 10_000, maxBytes: 1 << 24, log,
    ffmpegPath: join(dir, 'no-such-ffmpeg'), retry: { initialMs: 50, maxMs: 100 },
  });
  await rec.start();
  t.teardown(() => rec.stop());
  const h = await waitFor(() => (/cannot run/.test(rec.state().reason ?? '') ? rec.state() : null), { what: 'reason given' });
  t.equal(h.state, 'degraded');
  t.match(h.reason, /ffmpeg cannot run: spawn .*ENOENT.*; retry in/);
});
