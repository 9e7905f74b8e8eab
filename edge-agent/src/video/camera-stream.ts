/**
 * Keeps one camera's analysed stream alive and says when it is not (issue #14, "a dead stream is
 * invisible"): finds the stream's address (the ONVIF stream URI may not be known yet because the camera is
 * still booting: retried with capped backoff for ever, never failing the agent's start), opens the
 * decoder, and watches frames arrive. No frame for `lostAfterMs` → `lost`; the next frame → `restored`.
 * The decoder restarts itself (FrameSource) within the capped delays the owner gives it.
 */
import { Backoff, errorCode, redactUrl, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { SourceStatus } from '@safe-community/analytics/video';
import type { StreamState } from '../camera/index.js';

/** What the owner opens once the address is known: the decoder and its pipeline, started and stopped together. */
export interface OpenedStream {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StreamLoss {
  camera: string;
  /** ms since the last frame (or since the stream was asked for, when none ever came). */
  silentMs: number;
  code: string;
  reason: string;
  /** Whether frames had ever arrived: false when the stream never started. */
  everFlowed: boolean;
}

export interface CameraStreamOptions {
  camera: string;
  /** The stream's address (with credentials); may throw while the camera is unreachable. */
  resolveInput: () => Promise<string>;
  /** Builds the decoder + pipeline for that address; its frames must reach `frame()`, its status `sourceStatus()`. */
  open: (input: string) => OpenedStream;
  /** No frame for this long → lost; default 10 s. */
  lostAfterMs?: number;
  /** Delays between attempts to find the address; default 1 s growing to 10 s. */
  retry?: { initialMs: number; maxMs: number };
  /**
   * Lost this long → close the decoder and ask for the address again (a rebooted camera may hand out a
   * different stream URI; the decoder alone would retry the old one for ever); default 60 s, then every 60 s.
   */
  reopenAfterMs?: number;
  clock?: Clock;
  log: Logger;
  onState: (camera: string, state: StreamState, why?: { code: string; reason: string }) => void;
  onLost: (loss: StreamLoss) => void;
  onRestored: (camera: string, downMs: number) => void;
}

export class CameraStream {
  private readonly clock: Clock;
  private readonly lostAfterMs: number;
  private state: StreamState = 'starting';
  private stopped = true;
  private opened: OpenedStream | null = null;
  private watch: unknown;
  private retryTimer: unknown;
  private reopenTimer: unknown;
  /** Bumped by every fresh start from the address, so an older attempt still in flight opens nothing. */
  private attempt = 0;
  private lastFrameAt = 0;
  private askedAt = 0;
  private lostAt = 0;
  private lastProblem: { code: string; reason: string } | null = null;

  constructor(private readonly opts: CameraStreamOptions) {
    this.clock = opts.clock ?? systemClock;
    this.lostAfterMs = opts.lostAfterMs ?? 10_000;
  }

  get current(): StreamState {
    return this.state;
  }

  /** Returns at once: finding the address and opening the stream go on in the background. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.askedAt = this.clock.now();
    this.opts.onState(this.opts.camera, 'starting');
    this.armWatch();
    void this.connect(this.newBackoff(), ++this.attempt);
  }

  private newBackoff(): Backoff {
    return new Backoff({ initialMs: this.opts.retry?.initialMs ?? 1000, maxMs: this.opts.retry?.maxMs ?? 10_000 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.watch);
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.reopenTimer);
    const opened = this.opened;
    this.opened = null;
    await opened?.stop();
  }

  /** Every decoded frame (from the pipeline's onFrame). */
  frame(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.lastFrameAt = now;
    this.armWatch();
    if (this.state === 'flowing') return;
    const was = this.state;
    this.clock.clearTimeout(this.reopenTimer);
    this.state = 'flowing';
    this.lastProblem = null;
    this.opts.onState(this.opts.camera, 'flowing');
    if (was === 'lost') this.opts.onRestored(this.opts.camera, now - this.lostAt);
  }

  /** The decoder's own status: remembered as the reason a loss is reported with. */
  sourceStatus(status: SourceStatus): void {
    if (status.state === 'restarting' || status.state === 'offline' || status.state === 'ended') {
      this.lastProblem = { code: status.code ?? 'ERR_STREAM_ENDED', reason: redactUrl(status.message ?? `decoder ${status.state}`) };
    }
  }

  private async connect(backoff: Backoff, attempt: number): Promise<void> {
    const current = () => !this.stopped && attempt === this.attempt;
    if (!current()) return;
    let input: string;
    try {
      input = await this.opts.resolveInput();
    } catch (err) {
      if (!current()) return;
      this.lastProblem = { code: errorCode(err), reason: `stream address unknown: ${redactUrl((err as Error).message)}` };
      const delay = backoff.next();
      this.opts.log.warn({ camera: this.opts.camera, code: this.lastProblem.code, retryInMs: delay }, 'camera stream address not available; retrying');
      this.retryTimer = this.clock.setTimeout(() => void this.connect(backoff, attempt), delay);
      return;
    }
    if (!current()) return;
    this.lastProblem = null; // the address is known now; what happens next is the decoder's to tell
    const opened = this.opts.open(input);
    this.opened = opened;
    try {
      await opened.start();
    } catch (err) {
      // Bad decoder settings, not a dead camera: the same settings would fail again, so this stays lost.
      this.lastProblem = { code: errorCode(err), reason: redactUrl((err as Error).message) };
      this.opts.log.error({ camera: this.opts.camera, err }, 'camera stream could not be opened');
      this.opened = null;
    }
  }

  private armWatch(): void {
    this.clock.clearTimeout(this.watch);
    this.watch = this.clock.setTimeout(() => this.onSilence(), this.lostAfterMs);
  }

  private onSilence(): void {
    if (this.stopped || this.state === 'lost') return;
    const now = this.clock.now();
    const everFlowed = this.lastFrameAt > 0;
    const silentMs = now - (everFlowed ? this.lastFrameAt : this.askedAt);
    const problem = this.lastProblem ?? { code: 'ERR_STREAM_LOST', reason: `no frame for ${Math.round(silentMs / 1000)} s` };
    this.state = 'lost';
    this.lostAt = now;
    this.opts.onState(this.opts.camera, 'lost', problem);
    this.opts.onLost({ camera: this.opts.camera, silentMs, everFlowed, ...problem });
    this.armReopen();
  }

  private armReopen(): void {
    this.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = this.clock.setTimeout(() => void this.reopen(), this.opts.reopenAfterMs ?? 60_000);
  }

  /** Still lost: drop the decoder and start over from the address. */
  private async reopen(): Promise<void> {
    if (this.stopped || this.state !== 'lost') return;
    this.opts.log.info({ camera: this.opts.camera }, 'camera stream still lost: asking for its address again');
    const opened = this.opened;
    this.opened = null;
    await opened?.stop().catch((err: unknown) => this.opts.log.warn({ camera: this.opts.camera, err }, 'decoder did not stop cleanly'));
    if (this.stopped) return;
    this.clock.clearTimeout(this.retryTimer);
    this.armReopen();
    await this.connect(this.newBackoff(), ++this.attempt);
  }
}
