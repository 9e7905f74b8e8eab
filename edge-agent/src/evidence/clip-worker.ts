/**
 * Turns a planned clip into a file ready to upload: waits until the ring has recorded past the clip's end,
 * cuts the original from the segments (stream copy), then, one clip at a time and at the lowest priority,
 * blurs the faces into the copy that leaves the box. Every step is written to the clip's manifest first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FaceDetector } from '@safe-community/analytics';
import { errorCode, type Clock, type Logger } from '@safe-community/runtime';
import { cutClip } from './clip-cutter.js';
import { blurClip, type BlurResult } from './blur-job.js';
import { probeVideo, type FfmpegSpawn } from './ffmpeg-run.js';
import { uploadOrder, type ClipManifest, type EvidenceQueue } from './queue.js';
import type { RingRecorder } from './ring-recorder.js';

export interface ClipWorkerOptions {
  dir: string;
  queue: EvidenceQueue;
  segmentSec: number;
  blurEveryFrames: number;
  sendUnblurred: boolean;
  modelsDir?: string;
  ffmpegPath?: string;
  clock: Clock;
  log: Logger;
  /** The clip's end as it stands now (repeats may extend it while it records). */
  currentEnd: (clip: string) => number | undefined;
  /** The recording is over: later repeats make a clip of their own. */
  closePlan: (clip: string) => void;
  onCut?: (m: ClipManifest) => void;
  onBlurred?: (m: ClipManifest, r: BlurResult) => void;
  onFailed?: (m: ClipManifest, err: Error) => void;
  /** A clip became ready to upload. */
  onQueued?: (m: ClipManifest) => void;
}

/** Face score above which a region is blurred in clips. */
export const BLUR_SCORE_THRESHOLD = 0.4;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ClipWorker {
  private readonly blurWaiting = new Set<string>();
  private blurring: Promise<void> | null = null;
  private faces: FaceDetector | null = null;
  private stopped = false;
  private readonly halt = new AbortController();

  constructor(private readonly opts: ClipWorkerOptions) {}

  async stop(): Promise<void> {
    this.stopped = true;
    // A blur in progress is killed, not waited for: its clip stays `blurring` and is blurred again at start.
    this.halt.abort();
    await this.blurring;
    await this.faces?.stop();
    this.faces = null;
  }

  /** Records, cuts and hands the clip to the blur line; resolves when it is queued for the blur. */
  async record(m: ClipManifest, recorder: RingRecorder): Promise<void> {
    const { clock } = this.opts;
    const slackMs = this.opts.segmentSec * 3000 + 15_000;
    try {
      // The end may move while recording (repeats fold into the clip): wait for whatever it is now.
      for (;;) {
        const end = this.opts.currentEnd(m.clip) ?? m.toMs;
        const reached = await recorder.waitUntilRecorded(end, Math.max(0, end - clock.now()) + slackMs);
        if (this.stopped) return;
        if ((this.opts.currentEnd(m.clip) ?? m.toMs) <= end || !reached) break;
      }
      const toMs = this.opts.currentEnd(m.clip) ?? m.toMs;
      this.opts.closePlan(m.clip);
      const segments = recorder.index.covering(m.fromMs, toMs);
      await mkdir(join(this.opts.dir, 'originals'), { recursive: true, mode: 0o700 });
      const cut = await cutClip(segments, toMs, join(this.opts.dir, 'originals', `${m.clip}.mp4`), { ...(this.opts.ffmpegPath ? { ffmpegPath: this.opts.ffmpegPath } : {}) });
      const next: ClipManifest = { ...this.opts.queue.get(m.clip) ?? m, toMs, original: cut.file, cutStartMs: cut.startMs, state: 'blurring' };
      await this.opts.queue.save(next);
      this.opts.onCut?.(next);
      this.opts.log.info({ clip: m.clip, camera: m.camera, startMs: cut.startMs, durationMs: cut.durationMs, bytes: cut.bytes }, 'evidence clip cut');
      this.enqueueBlur(next.clip);
    } catch (err) {
      this.opts.closePlan(m.clip);
      await this.fail(m.clip, err as Error, 'cut');
    }
  }

  /**
   * Blur line: one clip at a time, so two clips never fight the cameras for the CPU; the most important
   * waiting clip goes next (fire, then severity, then age), as in the upload order.
   */
  enqueueBlur(clip: string): void {
    this.blurWaiting.add(clip);
    if (this.blurring || this.stopped) return;
    this.blurring = this.drainBlur().finally(() => {
      this.blurring = null;
      const left = [...this.blurWaiting][0];
      if (left && !this.stopped) this.enqueueBlur(left);
    });
  }

  private async drainBlur(): Promise<void> {
    while (!this.stopped && this.blurWaiting.size > 0) {
      const waiting = [...this.blurWaiting].map((c) => this.opts.queue.get(c)).filter((m): m is ClipManifest => m !== undefined).sort(uploadOrder);
      const next = waiting[0];
      if (!next) {
        this.blurWaiting.clear();
        return;
      }
      this.blurWaiting.delete(next.clip);
      await this.prepare(next.clip).catch((err: unknown) => this.opts.log.error({ err, clip: next.clip }, 'evidence blur line error'));
    }
  }

  private async prepare(clip: string): Promise<void> {
    const m = this.opts.queue.get(clip);
    if (!m || m.state !== 'blurring' || !m.original || this.stopped) return;
    const how: FfmpegSpawn = { nice: 19, ...(this.opts.ffmpegPath ? { ffmpegPath: this.opts.ffmpegPath } : {}) };
    try {
      const probe = await probeVideo(m.original, how);
      const startMs = m.cutStartMs ?? m.fromMs;
      let file = m.original;
      let blurred = false;
      if (!this.opts.sendUnblurred) {
        const faces = await this.detector();
        await mkdir(join(this.opts.dir, 'blurred'), { recursive: true, mode: 0o700 });
        file = join(this.opts.dir, 'blurred', `${m.clip}.mp4`);
        const result = await blurClip(m.original, file, { faces, everyFrames: this.opts.blurEveryFrames, how, signal: this.halt.signal });
        blurred = true;
        this.opts.onBlurred?.(m, result);
      }
      const bytes = (await stat(file)).size;
      const next: ClipManifest = {
        ...m, state: 'queued', ...(blurred ? { blurred: file } : {}),
        upload: { file, bytes, sha256: await sha256File(file), blurred, startMs, durationMs: probe.durationMs },
      };
      delete next.reason;
      await this.opts.queue.save(next);
      this.opts.onQueued?.(next);
    } catch (err) {
      if (this.stopped) return;
      await this.fail(clip, err as Error, 'blur');
    }
  }

  private async detector(): Promise<FaceDetector> {
    if (!this.faces) {
      // A lower score floor than the snapshots' 0.7: a face half-hidden in one frame is still blurred, and a
      // blurred patch of wall costs nothing. Tests check the blurred clip at the model's own threshold.
      const faces = new FaceDetector({ ...(this.opts.modelsDir ? { modelsDir: this.opts.modelsDir } : {}), scoreThreshold: BLUR_SCORE_THRESHOLD, logger: this.opts.log });
      await faces.start();
      this.faces = faces;
    }
    return this.faces;
  }

  private async fail(clip: string, err: Error, step: 'cut' | 'blur'): Promise<void> {
    const m = this.opts.queue.get(clip);
    if (!m) return;
    // Not sent, blurred or not: it stays on the box as failed, with the reason (health and metrics say so).
    const next: ClipManifest = { ...m, state: 'failed', reason: `${step} failed: ${errorCode(err)}: ${err.message}` };
    await this.opts.queue.save(next);
    this.opts.log.error({ clip, camera: m.camera, err }, `evidence clip ${step} failed`);
    this.opts.onFailed?.(next, err);
  }
}
