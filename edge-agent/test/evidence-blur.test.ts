/**
 * Issue 16, item 3: faces are blurred before a clip leaves the box. A short video is made at test time from
 * photos with faces; the face model (UltraFace, as for snapshots) finds faces in it, and finds none in any
 * frame of the blurred copy. A clip that cannot be blurred is an error, never a silent pass-through.
 */
import { passedOn } from '@safe-community/runtime';
import t from 'tap';
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaceDetector } from '@safe-community/analytics';
import { MEDIA_DIR, MODELS_DIR } from '@safe-community/testkit';
import { BLUR_SCORE_THRESHOLD, blurClip, probeVideo, runFfmpeg } from '@safe-community/edge-agent';

const dir = await mkdtemp(join(tmpdir(), 'evidence-blur-'));
// The checker uses the model's own threshold; the blur job looks harder (BLUR_SCORE_THRESHOLD).
const faces = new FaceDetector({ modelsDir: MODELS_DIR });
const blurFaces = new FaceDetector({ modelsDir: MODELS_DIR, scoreThreshold: BLUR_SCORE_THRESHOLD });
await faces.start();
await blurFaces.start();
t.teardown(async () => {
  await faces.stop();
  await blurFaces.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Two seconds of each photo at 10 fps, panning a little so the faces move between frames. */
const original = join(dir, 'faces.mp4');
await runFfmpeg([
  '-loglevel', 'error', '-y',
  '-loop', '1', '-t', '2', '-i', join(MEDIA_DIR, 'zidane.jpg'), '-loop', '1', '-t', '2', '-i', join(MEDIA_DIR, 'messi5.jpg'),
  '-filter_complex', "[0]scale=1000:-2,crop=960:540:'t*20':0,setsar=1,fps=10[a];[1]scale=960:540:force_original_aspect_ratio=increase,crop=960:540,setsar=1,fps=10[b];[a][b]concat=n=2:v=1[v]",
  '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '20', '-pix_fmt', 'yuv420p', original,
], {}, passedOn('TEST_MEDIA'));

/** Every frame of a video as raw RGB. */
async function frames(file: string): Promise<Array<{ width: number; height: number; data: Buffer }>> {
  const { width, height } = await probeVideo(file);
  const size = width * height * 3;
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  for await (const c of child.stdout as AsyncIterable<Buffer>) chunks.push(c);
  const all = Buffer.concat(chunks);
  const out = [];
  for (let o = 0; o + size <= all.length; o += size) out.push({ width, height, data: all.subarray(o, o + size) });
  return out;
}

t.test('the face model finds faces in the original and none in any frame of the blurred clip', async (t) => {
  const before = await frames(original);
  t.ok(before.length >= 38, `the original has its frames (${before.length})`);
  const found = [];
  for (const f of before) found.push((await faces.detect(f)).length);
  t.ok(found.slice(0, 20).every((n) => n > 0), 'faces in every frame of the first photo');
  t.ok(found.slice(20).every((n) => n > 0), 'faces in every frame of the second photo');

  const out = join(dir, 'blurred.mp4');
  const result = await blurClip(original, out, { faces: blurFaces, everyFrames: 2, how: { nice: 19 } });
  t.equal(result.frames, before.length, 'every frame went through');
  t.equal(result.detectedFrames, Math.ceil(before.length / 2), 'the model ran on every second frame');
  t.ok(result.faces >= result.detectedFrames, 'and found faces on them');

  const info = await probeVideo(out);
  t.match(info, { width: 960, height: 540 }, 'same picture size');
  t.ok(Math.abs(info.durationMs - 4000) <= 200, `same duration (${info.durationMs} ms)`);
  const after = await frames(out);
  t.equal(after.length, before.length);
  const left: number[] = [];
  for (const [i, f] of after.entries()) if ((await faces.detect(f)).length > 0) left.push(i);
  t.same(left, [], 'no frame of the blurred clip has a face the model can find');
});

t.test('a clip that cannot be decoded fails with a code and leaves no output', async (t) => {
  const bad = join(dir, 'not-a-video.mp4');
  await writeFile(bad, 'this is not a video');
  const out = join(dir, 'bad-out.mp4');
  await t.rejects(blurClip(bad, out, { faces, everyFrames: 2, how: {} }), { code: /^ERR_EVIDENCE_(PROBE|BLUR)$/ });
  await t.rejects(access(out), 'no blurred file');
  await t.rejects(access(`${out}.part.mp4`), 'no partial file');
});
