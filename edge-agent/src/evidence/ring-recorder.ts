/**
 * One camera's ring buffer (issue #16, item 1): ffmpeg copies the recording stream without decoding it
 * (`-c copy`) into short MPEG-TS segments, printing each closed segment on stdout; the index gives every
 * segment its wall-clock span (segment-index.ts) and the oldest are deleted past `keepMs` or `maxBytes`.
 *
 * Supervised like the analytics stream: the address is asked for again on every attempt (an ONVIF camera
 * still booting has none yet), ffmpeg is restarted with capped backoff, and a recorder that writes no
 * segment for `stallMs` is killed and restarted (a stream that hangs without closing is the usual failure).
 * Its health: up while segments arrive, degraded with the reason while it retries or when ffmpeg cannot run
 * at all. Never down: like a camera (issue 14), a recorder that fails degrades only itself, and the gateway's
 * life-safety work must not read as down because video evidence is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Backoff, errorCode, redactUrl, systemClock, type Clock, type Logger, type PartHealth } from '@safe-community/runtime';
import { RunClock, SegmentIndex, parseListLine, type Segment } from './segment-index.js';
import { probeVideo } from './ffmpeg-run.js';

export interface RecorderObserver {
  segmentWritten(camera: string, bytes: number): void;
  recorderRestarted(camera: string): void;
}

export interface RingRecorderOptions {
  camera: string;
  /** `<dataDir>/evidence/ring/<camera>`: emptied at start (the index lives in memory). */
  dir: string;
  /** The recording stream's address with credentials; may throw while the camera is unreachable. */
  resolveInput: () => Promise<string>;
  segmentSec: number;
  keepMs: number;
  maxBytes: number;
  /** Wall time from which segments must be kept for clips still to be cut (undefined: none). */
  holdFrom?: () => number | undefined;
  /** A file input is read at its own rate (`-re`), and looped when asked (demo cameras playing a video). */
  loopFile?: boolean;
  ffmpegPath?: string;
  /** No segment for this long → ffmpeg is killed and restarted; default 3 segments + 10 s (the first waits for a keyframe). */
  stallMs?: number;
  retry?: { initialMs: number; maxMs: number };
  observer?: RecorderObserver;
  onSegment?: (segment: Segment) => void;
  clock?: Clock;
  log: Logger;
}

export class RingRecorder {
  readonly index = new SegmentIndex();
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private child: ChildProcess | null = null;
  private stopped = true;
  private retryTimer: unknown;
  private stallTimer: unknown;
  private health: PartHealth = { state: 'degraded', reason: 'starting' };
  private restartCount = 0;
  private segmentCount = 0;
  private readonly waiters = new Set<() => void>();
  /** Why the supervisor killed the running ffmpeg (a stall), so the exit is reported with the real cause. */
  private killedFor: string | null = null;
  private cannotRun: string | null = null;

  constructor(private readonly opts: RingRecorderOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: opts.retry?.initialMs ?? 1000, maxMs: opts.retry?.maxMs ?? 30_000 });
  }

  get camera(): string {
    return this.opts.camera;
  }

  /** ffmpeg's process id while it runs (the benchmark reads its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  stats(): { segments: number; restarts: number; bytes: number; recordedUpToMs: number } {
    return { segments: this.segmentCount, restarts: this.restartCount, bytes: this.index.bytes, recordedUpToMs: this.index.recordedUpToMs };
  }

  state(): PartHealth {
    return this.health;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    // Segments of an earlier run have no wall-clock index: they cannot be placed in a clip, so they go.
    await rm(this.opts.dir, { recursive: true, force: true });
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.stallTimer);
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // 'q' would need stdin; SIGINT lets ffmpeg close the open segment cleanly.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    for (const wake of this.waiters) wake();
  }

  /** Resolves once a segment reaching `ms` is in the index, or after `timeoutMs` (the caller cuts what there is). */
  async waitUntilRecorded(ms: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.index.recordedUpToMs < ms && !this.stopped) {
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(() => { this.waiters.delete(wake); resolve(); }, left);
        const wake = () => { this.clock.clearTimeout(timer); this.waiters.delete(wake); resolve(); };
        this.waiters.add(wake);
      });
    }
    return this.index.recordedUpToMs >= ms;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    let input: string;
    try {
      input = await this.opts.resolveInput();
    } catch (err) {
      this.retry(`stream address unknown: ${redactUrl((err as Error).message)} (${errorCode(err)})`);
      return;
    }
    if (this.stopped) return;
    const runClock = new RunClock();
    const prefix = `${this.clock.now().toString(36)}-`;
    const isFile = !/^[a-z][a-z0-9+.-]*:\/\//i.test(input);
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      ...(input.startsWith('rtsp') ? ['-rtsp_transport', 'tcp'] : []),
      ...(isFile ? ['-re', ...(this.opts.loopFile ? ['-stream_loop', '-1'] : [])] : []),
      '-i', input,
      // Video only, copied as it comes: no decode, so a camera costs next to no CPU.
      '-map', '0:v:0', '-c', 'copy',
      '-f', 'segment', '-segment_time', String(this.opts.segmentSec), '-segment_format', 'mpegts', '-reset_timestamps', '1',
      '-segment_list', 'pipe:1', '-segment_list_type', 'csv', '-segment_list_flags', '+live',
      join(this.opts.dir, `${prefix}%06d.ts`),
    ];
    const child = spawn(this.opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.cannotRun = null;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    createInterface({ input: child.stdout! }).on('line', (line) => void this.onListLine(line, runClock).catch((err: unknown) =>
      this.opts.log.warn({ camera: this.opts.camera, err }, 'ring segment not indexed')));
    this.armStall();
    child.once('error', (err) => {
      // No ffmpeg on the box: retried like any failure (an installer may fix it), and said plainly.
      this.cannotRun = `ffmpeg cannot run: ${err.message}`;
      this.opts.log.error({ camera: this.opts.camera, err }, 'ring recorder: ffmpeg cannot run');
      // A child that never started emits no 'exit': retry from here.
      if (child.pid === undefined && this.child === child) {
        this.child = null;
        this.clock.clearTimeout(this.stallTimer);
        this.retry(this.cannotRun);
      }
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.clock.clearTimeout(this.stallTimer);
      if (this.stopped) return;
      this.restartCount++;
      this.opts.observer?.recorderRestarted(this.opts.camera);
      const why = redactUrl(stderr.trim().split('\n').pop() ?? '');
      const killedFor = this.killedFor;
      this.killedFor = null;
      // Exit 0 on a live input means the server ended the stream (camera rebooting, RTSP server gone).
      const reason = killedFor ?? this.cannotRun ?? (code === 0 ? 'the stream ended' : `ffmpeg exited (${code ?? signal})${why ? `: ${why}` : ''}`);
      this.retry(reason);
    });
  }

  private async onListLine(line: string, runClock: RunClock): Promise<void> {
    const parsed = parseListLine(line);
    if (!parsed) return;
    const arrived = this.clock.now();
    const first = runClock.placed === 0;
    const span = runClock.place(parsed, arrived);
    const file = join(this.opts.dir, parsed.name.replace(/^.*\//, ''));
    if (first) {
      // A run's first segment is listed from the stream's zero, but its video starts at the first keyframe,
      // which may come a second or more later: its real length is measured instead.
      const info = await probeVideo(file, { ...(this.opts.ffmpegPath ? { ffmpegPath: this.opts.ffmpegPath } : {}) }).catch(() => null);
      if (info && info.durationMs > 0 && info.durationMs < span.endMs - span.startMs) span.startMs = span.endMs - info.durationMs;
    }
    const bytes = (await stat(file)).size;
    this.index.add({ file, ...span, bytes });
    this.segmentCount++;
    this.backoff.reset();
    this.health = { state: 'up' };
    this.opts.observer?.segmentWritten(this.opts.camera, bytes);
    this.armStall();
    this.opts.onSegment?.({ file, ...span, bytes });
    for (const wake of [...this.waiters]) wake();
    await this.prune();
  }

  private async prune(): Promise<void> {
    const hold = this.opts.holdFrom?.();
    const removed = this.index.prune(this.clock.now(), { keepMs: this.opts.keepMs, maxBytes: this.opts.maxBytes, ...(hold !== undefined ? { holdFromMs: hold } : {}) });
    await Promise.all(removed.map((s) => rm(s.file, { force: true })));
  }

  private armStall(): void {
    this.clock.clearTimeout(this.stallTimer);
    const stallMs = this.opts.stallMs ?? this.opts.segmentSec * 3000 + 10_000;
    this.stallTimer = this.clock.setTimeout(() => {
      const child = this.child;
      if (this.stopped || !child) return;
      this.killedFor = `no segment for ${Math.round(stallMs / 1000)} s: recorder restarted`;
      this.opts.log.warn({ camera: this.opts.camera, stallMs }, 'ring recorder stalled: restarting ffmpeg');
      child.kill('SIGKILL');
    }, stallMs);
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.health = { state: 'degraded', reason: `${reason}; retry in ${Math.round(delay / 100) / 10} s` };
    this.opts.log.warn({ camera: this.opts.camera, reason, retryInMs: delay }, 'ring recorder retrying');
    this.retryTimer = this.clock.setTimeout(() => void this.run(), delay);
  }

  /** Files in the ring folder (tests check the bound on disk, not only the index). */
  async files(): Promise<string[]> {
    return (await readdir(this.opts.dir).catch(() => [] as string[])).filter((f) => f.endsWith('.ts'));
  }
}
