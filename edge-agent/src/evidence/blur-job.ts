/**
 * Blurs every face in a clip before it leaves the box (issue #16, item 3; DESIGN: faces are detected only to
 * blur them). ffmpeg decodes the clip to raw RGB frames, UltraFace (the model the snapshots use) looks at
 * every Nth frame, and each frame is pixelated inside the face boxes found on the detected frames on both
 * sides of it (a face moving between two detections stays covered), grown by a margin; ffmpeg encodes the
 * result as H.264 with the index up front. Both ffmpeg children run under `nice`: this is background work.
 *
 * Any failure rejects: a clip that could not be blurred is never sent (the caller keeps it as failed).
 */
import { once } from 'node:events';
import { chmod, rename, rm } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { growBox, type Box, type FaceDetector } from '@safe-community/analytics';
import { CodedError } from '@safe-community/runtime';
import { probeVideo, spawnFfmpeg, type FfmpegSpawn } from './ffmpeg-run.js';

export interface BlurOptions {
  faces: Pick<FaceDetector, 'detect'>;
  /** Detect on every Nth frame (1: all). */
  everyFrames: number;
  /** Share of a face box added on every side (hair, chin, motion between detections); default 0.35. */
  margin?: number;
  how: FfmpegSpawn;
  /** Aborting kills both ffmpeg children at once (the agent is stopping); the job then rejects. */
  signal?: AbortSignal;
}

export interface BlurResult {
  frames: number;
  /** Frames the face model ran on, and how many faces it found in all. */
  detectedFrames: number;
  faces: number;
  durationMs: number;
  /** Wall time the job took (probe, decode, detect, encode). */
  wallMs: number;
}

interface Frame {
  data: Buffer;
  boxes: Box[];
}

/** Replaces each box with coarse blocks (about four across the face's short side): nothing of a face survives. */
export function pixelate(data: Buffer, width: number, height: number, boxes: readonly Box[]): void {
  for (const [x1, y1, x2, y2] of boxes) {
    const block = Math.max(8, Math.ceil(Math.min(x2 - x1, y2 - y1) / 4));
    for (let by = y1; by < y2; by += block) {
      for (let bx = x1; bx < x2; bx += block) {
        const ex = Math.min(bx + block, x2, width);
        const ey = Math.min(by + block, y2, height);
        let r = 0, g = 0, b = 0, n = 0;
        for (let y = by; y < ey; y++) {
          for (let x = bx, i = (y * width + bx) * 3; x < ex; x++, i += 3) { r += data[i]!; g += data[i + 1]!; b += data[i + 2]!; n++; }
        }
        if (n === 0) continue;
        r = Math.round(r / n); g = Math.round(g / n); b = Math.round(b / n);
        for (let y = by; y < ey; y++) {
          for (let x = bx, i = (y * width + bx) * 3; x < ex; x++, i += 3) { data[i] = r; data[i + 1] = g; data[i + 2] = b; }
        }
      }
    }
  }
}

function exited(child: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new CodedError('ERR_EVIDENCE_BLUR', `${what} could not run: ${err.message}`, { cause: err })));
    child.once('exit', (code, signal) => (code === 0 ? resolve()
      : reject(new CodedError('ERR_EVIDENCE_BLUR', `${what} failed (${code ?? signal}): ${stderr.trim().split('\n').pop() ?? ''}`))));
  });
}

export async function blurClip(input: string, output: string, opts: BlurOptions): Promise<BlurResult> {
  const began = performance.now();
  const info = await probeVideo(input, opts.how);
  const { width, height } = info;
  const fps = info.fps > 0 ? info.fps : 10;
  const frameBytes = width * height * 3;
  const part = `${output}.part.mp4`;
  const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  const decoder = spawnFfmpeg([...quiet, '-i', input, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], opts.how, { stdio: ['ignore', 'pipe', 'pipe'] });
  const encoder = spawnFfmpeg([...quiet, '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', part], opts.how, { stdio: ['pipe', 'ignore', 'pipe'] });
  const decoded = exited(decoder, 'decoder');
  const encoded = exited(encoder, 'encoder');
  // Either child dying early must not leave the other waiting on a pipe.
  const abort = () => { decoder.kill('SIGKILL'); encoder.kill('SIGKILL'); };
  decoded.catch(abort);
  encoded.catch(abort);
  opts.signal?.addEventListener('abort', abort, { once: true });
  encoder.stdin!.on('error', () => undefined); // a dead encoder is reported by its exit

  const margin = opts.margin ?? 0.35;
  const every = Math.max(1, opts.everyFrames);
  const result: BlurResult = { frames: 0, detectedFrames: 0, faces: 0, durationMs: info.durationMs, wallMs: 0 };
  let previous: Box[] = [];
  let waiting: Frame[] = [];

  const write = async (frame: Frame, extra: readonly Box[]) => {
    pixelate(frame.data, width, height, [...frame.boxes, ...extra]);
    if (!encoder.stdin!.write(frame.data)) await once(encoder.stdin!, 'drain');
  };
  const onFrame = async (data: Buffer) => {
    const index = result.frames++;
    if (index % every !== 0) {
      waiting.push({ data, boxes: [] });
      return;
    }
    const faces = await opts.faces.detect({ width, height, data });
    result.detectedFrames++;
    result.faces += faces.length;
    const boxes = faces.map((f) => growBox(f.box, margin, width, height));
    // Frames between two detections get the boxes of both; the detected frame gets its own and the last ones.
    for (const f of waiting) await write(f, [...previous, ...boxes]);
    waiting = [];
    await write({ data, boxes }, previous);
    previous = boxes;
  };

  try {
    let pending: Buffer[] = [];
    let have = 0;
    for await (const chunk of decoder.stdout! as AsyncIterable<Buffer>) {
      pending.push(chunk);
      have += chunk.length;
      while (have >= frameBytes) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, have);
        await onFrame(Buffer.from(all.subarray(0, frameBytes)));
        const rest = all.subarray(frameBytes);
        pending = rest.length ? [rest] : [];
        have = rest.length;
      }
    }
    for (const f of waiting) await write(f, previous);
    if (opts.signal?.aborted) throw new CodedError('ERR_EVIDENCE_BLUR_ABORTED', 'blur stopped: the agent is stopping');
    encoder.stdin!.end();
    await decoded;
    await encoded;
    if (result.frames === 0) throw new CodedError('ERR_EVIDENCE_BLUR', `${input}: no frame decoded`);
    await chmod(part, 0o600);
    await rename(part, output);
    result.wallMs = Math.round(performance.now() - began);
    return result;
  } catch (err) {
    abort();
    await Promise.allSettled([decoded, encoded]);
    opts.signal?.removeEventListener('abort', abort);
    await rm(part, { force: true });
    throw err instanceof CodedError ? err : new CodedError('ERR_EVIDENCE_BLUR', `blurring ${input} failed: ${(err as Error).message}`, { cause: err });
  }
}
