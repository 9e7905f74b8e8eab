/**
 * Works through the evidence queue one clip at a time, most important first (fire, then severity, then
 * age), resuming each from the offset the cloud reports. Failures back off with jitter (capped at a
 * minute) and are remembered for health; a permanent refusal marks the clip failed with the cloud's reason.
 */
import { rm } from 'node:fs/promises';
import { Backoff, errorCode, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { uploadClip, UploadError, type UploadTarget } from './uploader.js';
import type { EvidenceQueue } from './queue.js';

export interface UploadLoopOptions {
  queue: EvidenceQueue;
  target: UploadTarget;
  onUploaded?: (clip: string) => void;
  onFailure?: (clip: string, err: Error) => void;
  retry?: { initialMs: number; maxMs: number };
  clock?: Clock;
  log: Logger;
}

export class UploadLoop {
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private stopped = true;
  private wakeUp: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private halt = new AbortController();
  /** The clip being sent now (the queue never drops it). */
  current: string | undefined;
  /** The last failure, cleared by the next success. */
  lastError: { at: number; message: string } | null = null;
  failures = 0;

  constructor(private readonly opts: UploadLoopOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: opts.retry?.initialMs ?? 1000, maxMs: opts.retry?.maxMs ?? 60_000 });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halt = new AbortController();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halt.abort();
    this.wake();
    await this.running;
  }

  /** A clip was queued: try now instead of at the end of a back-off. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => { this.wakeUp = null; resolve(); }, ms);
      this.wakeUp = () => { this.clock.clearTimeout(timer); resolve(); };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const next = this.opts.queue.pending()[0];
      if (!next) {
        await this.sleep(60_000);
        continue;
      }
      this.current = next.clip;
      try {
        await uploadClip(this.opts.target, next, undefined, this.halt.signal);
        const done = { ...next, state: 'uploaded' as const, uploadedAt: new Date(this.clock.now()).toISOString() };
        // The blurred copy lives in the cloud now; the original stays for its lawful keeping time.
        if (next.upload?.blurred && next.blurred) await rm(next.blurred, { force: true });
        await this.opts.queue.save(done);
        this.backoff.reset();
        this.lastError = null;
        this.opts.onUploaded?.(next.clip);
        this.opts.log.info({ clip: next.clip, camera: next.camera, bytes: next.upload?.bytes }, 'evidence clip uploaded');
      } catch (err) {
        if (this.stopped) return;
        const e = err as Error;
        this.failures++;
        this.lastError = { at: this.clock.now(), message: `${errorCode(err)}: ${e.message}` };
        this.opts.onFailure?.(next.clip, e);
        // A file gone from the disk will not come back: as final as the cloud's refusal.
        const gone = (err as NodeJS.ErrnoException).code === 'ENOENT';
        if ((err instanceof UploadError && err.permanent) || gone) {
          this.opts.log.error({ clip: next.clip, code: errorCode(err), reason: e.message }, gone ? 'evidence clip file missing' : 'evidence clip refused by the cloud');
          await this.opts.queue.save({ ...next, state: 'failed', reason: gone ? `clip file missing: ${e.message}` : `refused by the cloud: ${e.message}` });
          continue;
        }
        const delay = this.backoff.next();
        this.opts.log.warn({ clip: next.clip, code: errorCode(err), reason: e.message, retryInMs: delay }, 'evidence upload failed; retrying');
        await this.sleep(delay);
      } finally {
        this.current = undefined;
      }
    }
  }
}
