import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MEDIA_DIR, waitFor } from '@safe-community/testkit';
import {
  CameraPipeline, FrameSource, toCanonicalEvent, type Box, type Frame, type FrameProvider, type VideoEvent,
} from '@safe-community/analytics/video';
import { validators } from '@safe-community/contracts';
import type { CodedError } from '@safe-community/runtime';
import { paintedBoxDetector, syntheticFrame } from './video-helpers.js';

/** Frames from a list, then the end. */
function listSource(frames: Frame[]): FrameProvider {
  let i = 0;
  return { next: async () => frames[i++] ?? null };
}

/** A 20x30 px person walking right, 6 px a frame, across x = 80 (of 160) in 16 frames, then standing still for 12. */
function walkAcross(): Frame[] {
  const frames: Frame[] = [];
  for (let f = 0; f < 28; f++) {
    const x = 20 + Math.min(f, 15) * 6;
    const b: Box = [x, 40, x + 20, 70];
    frames.push(syntheticFrame(f, [b]));
  }
  return frames;
}

const line = { id: 'gate', a: [0.5, 0.9] as [number, number], b: [0.5, 0.1] as [number, number] };

t.test('frames → motion gate → detector → tracker → rules → a line-crossing event with its frame', async (t) => {
  const detector = paintedBoxDetector();
  const events: VideoEvent[] = [];
  const frames = walkAcross();
  const p = new CameraPipeline({
    camera: 'cam1', source: listSource(frames), detector, rules: { lines: [line] }, motion: { maxSkipFrames: 100 },
    timeBase: 'media', onEvent: (e) => events.push(e),
  });
  await p.start();
  await p.done();
  await p.stop();
  t.equal(events.length, 1, 'one crossing');
  const ev = events[0] as VideoEvent;
  t.equal(ev.kind, 'video.line_crossing');
  t.match(ev.payload, { line: 'gate', direction: 'in', counts: { in: 1, out: 0 } });
  t.equal(ev.camera, 'cam1');
  // The feet pass x=80 at seq 9 (x=84), inside the band of 0.15 box heights (4.5 px); seq 10 and 11 are
  // beyond it, and the second frame beyond confirms the crossing.
  t.equal(ev.frame.seq, 11, `fired on the second frame beyond the line's band (seq ${ev.frame.seq})`);
  t.equal(ev.frame, frames[ev.frame.seq], 'the event carries the frame for the snapshot');
  t.ok(ev.latencyMs >= 0);
  const s = p.stats();
  t.equal(s.frames, 28);
  t.equal(s.skippedByMotion, 12, 'the 12 still frames after the walk skip inference');
  t.equal(detector.calls, 16, 'inference ran only on the 16 frames with motion');
  t.same(Object.keys(s.stages).sort(), ['detect', 'gate', 'rules', 'total', 'track']);
  t.ok((s.stages.total?.count ?? 0) === 28);
  t.same(p.lineCounts(), { gate: { in: 1, out: 0 } });

  const canonical = toCanonicalEvent(ev, { id: '6f1c3c1e-8a4e-4c53-9d0e-2b7f1b1c2d3e', site: 'site-1', edge: 'edge-1' });
  t.ok(validators.event.check(canonical), `canonical event is valid: ${JSON.stringify(validators.event.issues(canonical))}`);
  t.equal(canonical.device, 'cam1');
  t.equal(canonical.payload.frameSeq, ev.frameSeq);
});

t.test('loitering and intrusion through the pipeline, on media time', async (t) => {
  // One person standing in a zone for 40 frames at 5 fps = 8 s.
  const frames = Array.from({ length: 40 }, (_, i) => syntheticFrame(i, [[60, 50, 70, 80]]));
  const events: VideoEvent[] = [];
  const p = new CameraPipeline({
    camera: 'door', source: listSource(frames), detector: paintedBoxDetector(), timeBase: 'media',
    rules: { zones: [{ id: 'porch', polygon: [[0.3, 0.5], [0.6, 0.5], [0.6, 0.9], [0.3, 0.9]], minFrames: 3, loiterSeconds: 5 }] },
    onEvent: (e) => events.push(e),
  });
  await p.start();
  await p.done();
  t.same(events.map((e) => e.kind), ['video.zone_intrusion', 'video.loitering']);
  // Frame 0 creates the track, frame 1 confirms it; loitering counts from the first confirmed frame.
  t.equal(events[1]?.frameSeq, 1 + 25, 'loitering after 5 s = 25 frames in the zone');
  t.ok(p.stats().skippedByMotion > 20, 'a still scene mostly skips inference, yet the track is kept');
});

t.test('a failing detector or event handler does not stop the camera', async (t) => {
  let n = 0;
  const errors: CodedError[] = [];
  const events: VideoEvent[] = [];
  const inner = paintedBoxDetector();
  const p = new CameraPipeline({
    camera: 'flaky', source: listSource(walkAcross()), rules: { lines: [line] }, motion: false,
    detector: { detect: async (f, o) => { if (++n % 4 === 0) throw new Error('inference worker died'); return inner.detect(f, o); } },
    onEvent: (e) => { events.push(e); throw new Error('consumer bug'); },
    onError: (e) => errors.push(e),
  });
  await p.start();
  await p.done();
  t.equal(p.stats().frames, 28, 'every frame was processed');
  t.ok(errors.length >= 6 && errors.every((e) => e.code === 'ERR_DETECT_FAILED'));
  t.match(errors[0]?.message, /inference worker died/);
  t.equal(events.length, 1, 'the crossing is still found (last detections reused on a failed frame)');
});

t.test('with a live source, a slow detector makes the source drop frames instead of queueing them', async (t) => {
  const vtest = join(MEDIA_DIR, 'vtest.avi');
  if (!existsSync(vtest)) throw new Error(`missing ${vtest}`);
  const source = new FrameSource({ camera: 'live', input: vtest, preset: 'file-realtime', fps: 10, scale: 'stretch', width: 160, height: 120 });
  const p = new CameraPipeline({
    camera: 'live', source, detector: paintedBoxDetector(250), rules: {}, motion: false, onEvent: () => {},
  });
  t.teardown(() => p.stop());
  await p.start();
  await waitFor(() => source.stats().frames >= 25, { timeoutMs: 15_000, what: '25 decoded frames' });
  const processed = p.stats().frames;
  await p.stop();
  const s = source.stats();
  t.equal(s.state, 'stopped', 'stopping the pipeline stops its source');
  t.ok(processed <= 14, `about 4 frames a second processed (${processed})`);
  t.ok(s.dropped >= 8, `the rest dropped, not queued (${s.dropped})`);
  t.ok((p.stats().stages.total?.p50Ms ?? 0) >= 250, 'timings include the slow detector');
});
