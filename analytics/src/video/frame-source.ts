import { Backoff, CodedError, redactUrl, systemClock, type BackoffOptions, type Clock, type Logger } from '@safe-community/runtime';
import { spawnFfmpeg, type FfmpegProcess, type FfmpegSpawner } from './ffmpeg-adapter.js';
import { buildArgs, PRESET_INFO, presetFor, type DecodeSettings, type PresetName } from './ffmpeg-presets.js';
import type { ContentRect, Frame } from './types.js';

export type SourceState = 'idle' | 'starting' | 'streaming' | 'restarting' | 'offline' | 'ended' | 'stopped';

/** Health changes, for the agent to turn into camera-offline alarms. */
export interface SourceStatus {
  camera: string;
  state: SourceState;
  /** ERR_STREAM_STALLED, ERR_DECODER_EXITED or ERR_CAMERA_OFFLINE when the change came from a fault. */
  code?: string;
  /** Human text with URL credentials redacted. */
  message?: string;
  restarts: number;
}

export interface RestartPolicy {
  /** Restarts allowed inside `windowMs` before the camera is declared offline. */
  maxRestarts: number;
  windowMs: number;
  backoff: BackoffOptions;
  /** After being declared offline, how long to wait before trying again with a fresh budget. */
  offlineRetryMs: number;
}

export interface FrameSourceOptions extends DecodeSettings {
  camera: string;
  /** RTSP/HTTP URL or file path; credentials in it are never logged. */
  input: string;
  /** Default: chosen from the input (presetFor). */
  preset?: PresetName;
  /**
   * 'latest' (default): the newest frame replaces an unread one (counted as dropped), so a slow consumer
   * always sees the present. 'block': the decoder is paused until the consumer reads, for offline
   * analysis of files where every frame matters.
   */
  delivery?: 'latest' | 'block';
  /** No frame for this long while the decoder should be producing → stream stalled, restart. */
  staleMs?: number;
  /** Allowance for the first frame (RTSP connect, probing). */
  firstFrameMs?: number;
  restart?: Partial<RestartPolicy>;
  clock?: Clock;
  logger?: Logger;
  spawn?: FfmpegSpawner;
  onStatus?(status: SourceStatus): void;
}

export interface SourceStats {
  state: SourceState;
  frames: number;
  dropped: number;
  restarts: number;
  /** Bytes held in frame buffers right now (assembly + queue): stays bounded. */
  bufferedBytes: number;
}

const DEFAULT_RESTART: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  backoff: { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 },
  offlineRetryMs: 60_000,
};

/** In 'block' delivery the decoder is paused once this many frames wait unread. */
const BLOCK_QUEUE = 2;

/**
 * Supervised ffmpeg decoder for one camera: raw RGB frames at a fixed rate, restart with jittered
 * backoff inside a budget, a stale-frame watchdog, and at most one frame (latest mode) or a few
 * (block mode) held at a time.
 */
export class FrameSource {
  private readonly clock: Clock;
  private readonly preset: PresetName;
  private readonly policy: RestartPolicy;
  private readonly frameBytes: number;
  private readonly staleMs: number;
  private readonly firstFrameMs: number;
  private readonly delivery: 'latest' | 'block';
  private backoff: Backoff | undefined;
  private proc: FfmpegProcess | undefined;
  private generation = 0;
  private state: SourceState = 'idle';
  private assembly: Buffer | undefined;
  private filled = 0;
  private runFrames = 0;
  private content: ContentRect;
  private readonly queue: Frame[] = [];
  private waiters: Array<(f: Frame | null) => void> = [];
  private watchdog: unknown;
  private restartTimer: unknown;
  private restartTimes: number[] = [];
  private paused = false;
  private counters = { frames: 0, dropped: 0, restarts: 0 };
  private exitWaiter: (() => void) | undefined;

  constructor(private readonly opts: FrameSourceOptions) {
    this.clock = opts.clock ?? systemClock;
    this.preset = opts.preset ?? presetFor(opts.input);
    this.policy = { ...DEFAULT_RESTART, ...opts.restart };
    this.frameBytes = opts.width * opts.height * 3;
    this.staleMs = opts.staleMs ?? Math.max(5_000, 5_000 / opts.fps);
    this.firstFrameMs = opts.firstFrameMs ?? Math.max(this.staleMs, 15_000);
    this.delivery = opts.delivery ?? 'latest';
    this.content = { width: opts.width, height: opts.height, sourceWidth: opts.width, sourceHeight: opts.height };
  }

  get camera(): string {
    return this.opts.camera;
  }

  stats(): SourceStats {
    const queued = this.queue.reduce((n, f) => n + f.data.length, 0);
    return { state: this.state, ...this.counters, bufferedBytes: queued + (this.assembly?.length ?? 0) };
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new CodedError('ERR_SOURCE_STATE', `frame source ${this.opts.camera} already started`);
    buildArgs(this.preset, this.opts.input, this.opts); // bad settings fail here, not in the child
    if (this.delivery === 'block' && (this.preset.startsWith('rtsp') || this.preset === 'http')) {
      // Pausing the reader of a network stream backs up the camera's socket until it drops us.
      throw new CodedError('ERR_SOURCE_OPTIONS', `delivery 'block' is for files; camera ${this.opts.camera} is a network stream`);
    }
    this.backoff = new Backoff(this.policy.backoff);
    this.launch();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.clearTimers();
    const proc = this.proc;
    this.setState('stopped');
    this.flushWaiters();
    if (proc) {
      const exited = new Promise<void>((resolve) => {
        this.exitWaiter = resolve;
      });
      proc.kill();
      // A process that cannot be killed must not hang shutdown.
      let timer: unknown;
      await Promise.race([exited, new Promise<void>((r) => { timer = this.clock.setTimeout(r, 3_000); })]);
      this.clock.clearTimeout(timer);
    }
    this.proc = undefined;
    this.queue.length = 0;
    this.assembly = undefined;
  }

  /** The next frame (the newest, in latest mode); null once the source has ended or stopped. */
  next(): Promise<Frame | null> {
    const f = this.queue.shift();
    if (f) {
      if (this.paused && this.queue.length < BLOCK_QUEUE) this.resume();
      return Promise.resolve(f);
    }
    if (this.state === 'ended' || this.state === 'stopped') return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async *frames(): AsyncGenerator<Frame> {
    for (;;) {
      const f = await this.next();
      if (!f) return;
      yield f;
    }
  }

  private launch(): void {
    const gen = ++this.generation;
    this.runFrames = 0;
    this.filled = 0;
    this.paused = false;
    this.setState('starting');
    const args = buildArgs(this.preset, this.opts.input, this.opts);
    const proc = (this.opts.spawn ?? spawnFfmpeg)(args, {
      onStart: (line) => this.opts.logger?.debug({ camera: this.opts.camera, cmd: line }, 'ffmpeg started'),
      onSourceSize: (w, h) => {
        if (gen === this.generation) this.content = contentRect(this.opts, w, h);
      },
      onExit: (err) => this.onExit(gen, err),
    });
    this.proc = proc;
    proc.stdout.on('data', (chunk: Buffer) => {
      // stop() keeps the generation (its exit must still reach exitWaiter), but output that was already
      // in the pipe when it killed ffmpeg keeps arriving. Delivering it would flip 'stopped' back to
      // 'streaming', and the kill's exit would then count as a failure: a stopped source restarting
      // (and arming restart/offline timers) forever.
      if (gen === this.generation && this.state !== 'stopped') this.onData(chunk);
    });
    this.armWatchdog(this.firstFrameMs);
  }

  private onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.assembly) {
        this.assembly = Buffer.allocUnsafe(this.frameBytes);
        this.filled = 0;
      }
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      chunk.copy(this.assembly, this.filled, off, off + n);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        const data = this.assembly;
        this.assembly = undefined;
        this.deliver(data);
      }
    }
  }

  private deliver(data: Buffer): void {
    const now = this.clock.now();
    const frame: Frame = {
      camera: this.opts.camera,
      seq: this.counters.frames++,
      ptsMs: (this.runFrames++ * 1000) / this.opts.fps,
      receivedAt: now,
      width: this.opts.width,
      height: this.opts.height,
      data,
      content: this.content,
    };
    if (this.state === 'ended') {
      // The tail of a finished file can still be in the pipe when ffmpeg's exit is reported: keep it for
      // next(), without flipping back to 'streaming' (its watchdog would restart a file that has ended).
      this.queue.push(frame);
      return;
    }
    if (this.state !== 'streaming') {
      this.setState('streaming');
      // A run that delivers frames ends the current failure streak.
      this.backoff?.reset();
    }
    this.armWatchdog(this.staleMs);
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(frame);
      return;
    }
    if (this.delivery === 'latest') {
      if (this.queue.length > 0) this.counters.dropped += this.queue.length;
      this.queue.length = 0;
      this.queue.push(frame);
      return;
    }
    this.queue.push(frame);
    if (this.queue.length >= BLOCK_QUEUE && !this.paused) {
      this.paused = true;
      this.proc?.stdout.pause();
    }
  }

  private resume(): void {
    this.paused = false;
    this.proc?.stdout.resume();
    this.armWatchdog(this.staleMs);
  }

  private armWatchdog(ms: number): void {
    this.clock.clearTimeout(this.watchdog);
    const gen = this.generation;
    this.watchdog = this.clock.setTimeout(() => this.onStale(gen, ms), ms);
  }

  private onStale(gen: number, ms: number): void {
    if (gen !== this.generation || this.state === 'stopped') return;
    if (this.paused) {
      // The consumer is holding the decoder back on purpose; that is not a stall.
      this.armWatchdog(ms);
      return;
    }
    this.fail('ERR_STREAM_STALLED', `no frame from camera ${this.opts.camera} for ${ms} ms`);
  }

  private onExit(gen: number, err: Error | null): void {
    if (gen !== this.generation) return;
    this.proc = undefined;
    if (this.state === 'stopped') {
      this.exitWaiter?.();
      return;
    }
    if (!err && PRESET_INFO[this.preset].endsAtEof) {
      this.clock.clearTimeout(this.watchdog);
      this.setState('ended');
      this.flushWaiters();
      return;
    }
    const why = err ? err.message : 'ffmpeg exited although the stream should not end';
    this.fail('ERR_DECODER_EXITED', `decoder for camera ${this.opts.camera} exited: ${why}`);
  }

  /** Ends the current decoder run and schedules the next, within the restart budget. */
  private fail(code: string, message: string): void {
    this.clock.clearTimeout(this.watchdog);
    this.generation++; // events from the old process are ignored from here on
    const old = this.proc;
    this.proc = undefined;
    old?.kill();
    this.assembly = undefined;
    this.opts.logger?.warn({ camera: this.opts.camera, code }, redactUrl(message));
    const now = this.clock.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.policy.windowMs);
    if (this.restartTimes.length >= this.policy.maxRestarts) {
      this.restartTimes = [];
      this.backoff?.reset();
      this.setState('offline', 'ERR_CAMERA_OFFLINE',
        `camera ${this.opts.camera} offline: ${this.policy.maxRestarts} restarts in ${this.policy.windowMs} ms; last: ${redactUrl(message)}`);
      this.restartTimer = this.clock.setTimeout(() => this.relaunch(), this.policy.offlineRetryMs);
      return;
    }
    this.restartTimes.push(now);
    const delay = this.backoff?.next() ?? this.policy.backoff.initialMs;
    this.setState('restarting', code, redactUrl(message));
    this.restartTimer = this.clock.setTimeout(() => this.relaunch(), delay);
  }

  private relaunch(): void {
    if (this.state === 'stopped') return;
    this.counters.restarts++;
    this.launch();
  }

  private setState(state: SourceState, code?: string, message?: string): void {
    this.state = state;
    const status: SourceStatus = { camera: this.opts.camera, state, restarts: this.counters.restarts };
    if (code) status.code = code;
    if (message) status.message = message;
    this.opts.onStatus?.(status);
  }

  private flushWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve(null);
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.watchdog);
    this.clock.clearTimeout(this.restartTimer);
  }
}

/** Where ffmpeg put the picture inside the frame, from the camera's size and the scale mode. */
export function contentRect(s: DecodeSettings, sourceWidth: number, sourceHeight: number): ContentRect {
  if (s.scale !== 'letterbox') return { width: s.width, height: s.height, sourceWidth, sourceHeight };
  const r = Math.min(s.width / sourceWidth, s.height / sourceHeight);
  return {
    width: Math.min(s.width, Math.round(sourceWidth * r)),
    height: Math.min(s.height, Math.round(sourceHeight * r)),
    sourceWidth,
    sourceHeight,
  };
}
