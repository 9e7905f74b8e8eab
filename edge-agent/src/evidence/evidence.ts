/**
 * The agent's evidence part (issue #16): a ring recorder per camera, the planner that decides which events
 * and alarms get clips, the clip worker (cut, blur), the on-disk queue and its upload loop. Built by the
 * agent, started after the cameras, stopped before them.
 *
 *   every event/alarm sent up → planner → `evidence.clip` announced through the outbox at once
 *     → wait for the post-roll → cut original (stream copy) → blur faces (nice) → queue → upload (resumable)
 *
 * Health: `recorder:<camera>` per camera, and `evidence` for the clip line and the queue.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Event, Tags } from '@safe-community/contracts';
import { systemClock, type Clock, type Logger, type PartHealth } from '@safe-community/runtime';
import { EvidencePlanner, type ClipPlan, type TriggerPolicy } from './planner.js';
import { EvidenceQueue, type ClipManifest } from './queue.js';
import { RingRecorder } from './ring-recorder.js';
import { ClipWorker } from './clip-worker.js';
import { UploadLoop } from './upload-loop.js';
import type { UploadTarget } from './uploader.js';
import type { OutboxInput, UplinkSink } from '../ports.js';

/** The evidence series of the agent's metrics (EdgeMetrics implements it). */
export interface EvidenceObserver {
  segmentWritten(camera: string, bytes: number): void;
  recorderRestarted(camera: string): void;
  clipMade(camera: string): void;
  clipDropped(camera: string): void;
  clipFailed(camera: string): void;
  uploadFailed(): void;
}

export interface EvidenceSettings {
  preSec: number;
  postSec: number;
  ringSeconds: number;
  ringMaxBytes: number;
  segmentSec: number;
  keepOriginalDays: number;
  queueMaxBytes: number;
  sendUnblurred: boolean;
  blurEveryFrames: number;
  triggers: TriggerPolicy;
}

export interface EvidenceCamera {
  id: string;
  tags: Readonly<Tags>;
  /** The recording stream's address with credentials; asked again on every attempt. */
  resolveInput: () => Promise<string>;
  loopFile?: boolean;
}

export interface EvidenceOptions {
  site: string;
  edge: string;
  /** `<dataDir>/evidence`. */
  dir: string;
  settings: EvidenceSettings;
  cameras: readonly EvidenceCamera[];
  tagsOf: (device: string) => Readonly<Tags> | undefined;
  /** Where the `evidence.clip` announcements go (the outbox). */
  sink: UplinkSink;
  /** Null: clips wait in the queue (no cloud URL configured). */
  upload: UploadTarget | null;
  /** Delays between failed upload attempts; default 1 s growing to 60 s, with jitter. */
  uploadRetry?: { initialMs: number; maxMs: number };
  modelsDir?: string;
  ffmpegPath?: string;
  observer?: EvidenceObserver;
  clock?: Clock;
  log: Logger;
}

const HOUR = 3_600_000;

export class Evidence {
  readonly recorders = new Map<string, RingRecorder>();
  readonly queue: EvidenceQueue;
  readonly planner: EvidencePlanner;
  private readonly worker: ClipWorker;
  private readonly uploads: UploadLoop | null;
  private readonly clock: Clock;
  private readonly recording = new Set<Promise<void>>();
  private expiryTimer: unknown;
  private lastDrop: { at: number; count: number } | null = null;
  private lastFailure: { at: number; reason: string } | null = null;
  private lastBlur: { clipMs: number; wallMs: number; faces: number } | null = null;
  private stopped = true;

  constructor(private readonly opts: EvidenceOptions) {
    const s = opts.settings;
    this.clock = opts.clock ?? systemClock;
    const log = opts.log.child({ part: 'evidence' });
    this.queue = new EvidenceQueue(join(opts.dir, 'queue'), log);
    this.planner = new EvidencePlanner({
      cameras: opts.cameras.map((c) => ({ id: c.id, tags: c.tags })), tagsOf: opts.tagsOf, triggers: s.triggers,
      preMs: s.preSec * 1000, postMs: s.postSec * 1000,
    });
    for (const c of opts.cameras) {
      this.recorders.set(c.id, new RingRecorder({
        camera: c.id, dir: join(opts.dir, 'ring', c.id), resolveInput: c.resolveInput, loopFile: c.loopFile ?? false,
        segmentSec: s.segmentSec, keepMs: s.ringSeconds * 1000, maxBytes: s.ringMaxBytes,
        holdFrom: () => this.planner.holdFrom(c.id),
        ...(opts.ffmpegPath ? { ffmpegPath: opts.ffmpegPath } : {}),
        ...(opts.observer ? { observer: opts.observer } : {}),
        clock: this.clock, log,
      }));
    }
    this.worker = new ClipWorker({
      dir: opts.dir, queue: this.queue, segmentSec: s.segmentSec, blurEveryFrames: s.blurEveryFrames, sendUnblurred: s.sendUnblurred,
      ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}), ...(opts.ffmpegPath ? { ffmpegPath: opts.ffmpegPath } : {}),
      clock: this.clock, log,
      currentEnd: (clip) => this.openPlans.get(clip)?.toMs,
      closePlan: (clip) => { this.planner.close(clip); this.openPlans.delete(clip); },
      onCut: (m) => opts.observer?.clipMade(m.camera),
      onBlurred: (_m, r) => { this.lastBlur = { clipMs: r.durationMs, wallMs: r.wallMs, faces: r.faces }; },
      onFailed: (m) => {
        this.lastFailure = { at: this.clock.now(), reason: m.reason ?? 'failed' };
        opts.observer?.clipFailed(m.camera);
      },
      onQueued: () => void this.afterQueued(),
    });
    this.uploads = opts.upload ? new UploadLoop({
      queue: this.queue, target: opts.upload, clock: this.clock, log, ...(opts.uploadRetry ? { retry: opts.uploadRetry } : {}),
      onFailure: () => opts.observer?.uploadFailed(),
    }) : null;
  }

  private readonly openPlans = new Map<string, ClipPlan>();

  async start(): Promise<void> {
    this.stopped = false;
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await this.resume();
    for (const r of this.recorders.values()) await r.start();
    this.uploads?.start();
    await this.expire();
    this.expiryTimer = this.clock.setTimeout(() => this.expireLoop(), HOUR);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.expiryTimer);
    await this.uploads?.stop();
    // The worker first: clips still recording are left as they are (failed at the next start), not cut now.
    const halted = this.worker.stop();
    for (const r of this.recorders.values()) await r.stop();
    await Promise.allSettled([...this.recording]);
    await halted;
  }

  /** Every event and alarm the agent sends up passes here (the agent's outbox tap). */
  observe(msg: OutboxInput): void {
    if (this.stopped) return;
    for (const change of this.planner.observe(msg)) {
      if (change.type === 'new') void this.begin(change.plan);
      else void this.updateManifest(change.plan);
    }
  }

  /** When the clip was announced and is recording: its manifest, then its `evidence.clip` event. */
  private async begin(plan: ClipPlan): Promise<void> {
    const recorder = this.recorders.get(plan.camera);
    if (!recorder) return;
    this.openPlans.set(plan.clip, plan);
    const m: ClipManifest = {
      clip: plan.clip, camera: plan.camera, triggerEventId: plan.trigger.id, triggerKind: plan.trigger.kind, triggerDevice: plan.trigger.device,
      severity: plan.trigger.severity, eventAtMs: plan.trigger.atMs, fromMs: plan.fromMs, toMs: plan.toMs,
      createdAt: new Date(this.clock.now()).toISOString(), state: 'recording',
    };
    await this.queue.save(m);
    await this.announce(plan).catch((err: unknown) => this.opts.log.error({ err, clip: plan.clip }, 'evidence.clip event not stored'));
    const job = this.worker.record(m, recorder);
    this.recording.add(job);
    void job.finally(() => this.recording.delete(job));
  }

  private async announce(plan: ClipPlan): Promise<void> {
    const event: Event = {
      id: randomUUID(), site: this.opts.site, edge: this.opts.edge, device: plan.camera, kind: 'evidence.clip', severity: plan.trigger.severity,
      edgeTime: new Date(this.clock.now()).toISOString(),
      payload: {
        clip: plan.clip, camera: plan.camera, triggerEventId: plan.trigger.id, triggerKind: plan.trigger.kind,
        startAt: new Date(plan.fromMs).toISOString(), endAt: new Date(plan.toMs).toISOString(),
      },
    };
    await this.opts.sink.append({ type: 'event', data: event });
  }

  private async updateManifest(plan: ClipPlan): Promise<void> {
    const m = this.queue.get(plan.clip);
    if (m && m.state === 'recording') await this.queue.save({ ...m, toMs: plan.toMs, severity: plan.trigger.severity });
  }

  private async afterQueued(): Promise<void> {
    const dropped = await this.queue.enforce(this.opts.settings.queueMaxBytes, this.uploads?.current);
    for (const d of dropped) this.opts.observer?.clipDropped(d.camera);
    if (dropped.length) this.lastDrop = { at: this.clock.now(), count: (this.lastDrop?.count ?? 0) + dropped.length };
    this.uploads?.wake();
  }

  /** After a restart: clips being blurred are blurred again; clips still recording lost their ring. */
  private async resume(): Promise<void> {
    for (const m of await this.queue.load()) {
      if (m.state === 'recording') {
        await this.queue.save({ ...m, state: 'failed', reason: 'the agent stopped before the clip was recorded (the ring does not survive a restart)' });
      } else if (m.state === 'blurring') {
        this.worker.enqueueBlur(m.clip);
      }
    }
  }

  private expireLoop(): void {
    void this.expire().finally(() => {
      if (!this.stopped) this.expiryTimer = this.clock.setTimeout(() => this.expireLoop(), HOUR);
    });
  }

  /** Originals past keepOriginalDays are deleted; a finished clip's manifest goes with its original. */
  async expire(): Promise<number> {
    const limit = this.clock.now() - this.opts.settings.keepOriginalDays * 24 * HOUR;
    let removed = 0;
    for (const m of this.queue.list()) {
      if (Date.parse(m.createdAt) > limit) continue;
      if (m.original) await rm(m.original, { force: true });
      if (['uploaded', 'failed', 'dropped'].includes(m.state)) {
        if (m.blurred) await rm(m.blurred, { force: true });
        await this.queue.remove(m.clip);
      } else if (m.original) {
        const next = { ...m };
        delete next.original;
        await this.queue.save(next);
      }
      removed++;
    }
    return removed;
  }

  /** `recorder:<camera>` on /health. */
  recorderHealth(camera: string): PartHealth {
    return this.recorders.get(camera)?.state() ?? { state: 'degraded', reason: 'not recorded' };
  }

  stats(): { queueBytes: number; pending: number; failed: number; dropped: number; uploadFailures: number; lastBlur: { clipMs: number; wallMs: number; faces: number } | null } {
    const all = this.queue.list();
    return {
      queueBytes: this.queue.bytes(), pending: this.queue.pending().length, failed: all.filter((m) => m.state === 'failed').length,
      dropped: this.queue.dropped, uploadFailures: this.uploads?.failures ?? 0, lastBlur: this.lastBlur,
    };
  }

  /** `evidence` on /health: degraded while uploads fail, the queue backs up, or clips were lost in the last hour. */
  health(): PartHealth {
    const now = this.clock.now();
    const s = this.stats();
    const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
    const problems: string[] = [];
    const err = this.uploads?.lastError;
    if (err && s.pending > 0) problems.push(`uploads failing: ${err.message}`);
    if (s.queueBytes > this.opts.settings.queueMaxBytes * 0.8) problems.push(`queue backing up: ${mib(s.queueBytes)} of ${mib(this.opts.settings.queueMaxBytes)}`);
    if (this.lastDrop && now - this.lastDrop.at < HOUR) problems.push(`${this.lastDrop.count} clips dropped (queue full)`);
    if (this.lastFailure && now - this.lastFailure.at < HOUR) problems.push(`clip failed: ${this.lastFailure.reason}`);
    if (!this.uploads && s.pending > 0) problems.push('no upload URL (evidence.uploadUrl / cloud.url): clips wait on the box');
    if (problems.length) return { state: 'degraded', reason: `${problems.join('; ')} (${s.pending} waiting)` };
    return s.pending > 0 ? { state: 'up', reason: `${s.pending} clips waiting (${mib(s.queueBytes)})` } : { state: 'up' };
  }
}
