import { performance } from 'node:perf_hooks';
import { CodedError, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { VideoEvent } from './events.js';
import { normaliseDetections } from './geometry.js';
import { MotionGate, type MotionGateOptions } from './motion-gate.js';
import { RuleEngine, type RulesConfig } from './rules.js';
import { StageTimings, type Stage, type StageSummary } from './stage-timings.js';
import { Tracker, type TrackerOptions } from './tracker.js';
import type { Detection, Frame, FrameDetector, NormDetection, TrackView } from './types.js';

/** Anything that hands out frames: a FrameSource, or a test's own list. */
export interface FrameProvider {
  next(): Promise<Frame | null>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface CameraPipelineOptions {
  camera: string;
  source: FrameProvider;
  detector: FrameDetector;
  rules: RulesConfig;
  tracker?: TrackerOptions;
  /** Motion gate settings; false runs the detector on every frame. */
  motion?: MotionGateOptions | false;
  /**
   * Score floor asked of the detector. Default 0.1: the tracker's second stage wants the low-score
   * boxes (half-hidden people) that a detector's usual 0.3 would throw away.
   */
  detectScore?: number;
  /** Only these labels reach the tracker (default: person, bicycle, car, motorcycle, bus, truck). */
  labels?: string[];
  /**
   * Clock for rules (loitering seconds, cooldowns): 'wall' = frame arrival, for live cameras;
   * 'media' = position in the stream, for files analysed faster than real time.
   */
  timeBase?: 'wall' | 'media';
  /**
   * Frames whose detection may run ahead of tracking (default 2): the next frame is preprocessed while
   * the current one is in inference. 1 = strictly one frame at a time.
   */
  maxInFlight?: number;
  /** Start and stop the source together with the pipeline. Default true. */
  ownsSource?: boolean;
  onEvent(event: VideoEvent): void;
  /** Every processed frame with its tracks and timings (overlays, tests, benchmarks). */
  onFrame?(result: FrameResult): void;
  /** A frame that could not be processed; the pipeline carries on with the next one. */
  onError?(err: CodedError): void;
  clock?: Clock;
  logger?: Logger;
}

export interface FrameResult {
  frame: Frame;
  /** False when the motion gate skipped inference (the last detections were reused). */
  detected: boolean;
  detections: NormDetection[];
  /** The same detections in frame pixels, as the privacy module's snapshot wants them. */
  frameDetections: Detection[];
  tracks: TrackView[];
  events: VideoEvent[];
  timings: Partial<Record<Stage, number>>;
}

export interface PipelineStats {
  frames: number;
  inferences: number;
  skippedByMotion: number;
  errors: number;
  events: number;
  stages: Partial<Record<Stage, StageSummary>>;
}

const DEFAULT_LABELS = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'];

/**
 * One camera's analytics: frames → motion gate → detector → tracker → rules → events. At most
 * `maxInFlight` frames are being worked on; with a FrameSource in 'latest' mode a slow detector makes
 * the source drop frames, never queue them, so latency stays at about two inferences at worst.
 */
export class CameraPipeline {
  private readonly clock: Clock;
  private readonly labels: Set<string>;
  private gate: MotionGate | undefined;
  private tracker: Tracker | undefined;
  private rules: RuleEngine | undefined;
  private readonly timings = new StageTimings();
  private lastDetections: Promise<Detected> = Promise.resolve({ norm: [], raw: [] });
  private loop: Promise<void> | undefined;
  private running = false;
  private counters = { frames: 0, inferences: 0, skippedByMotion: 0, errors: 0, events: 0 };

  constructor(private readonly opts: CameraPipelineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.labels = new Set(opts.labels ?? DEFAULT_LABELS);
  }

  async start(): Promise<void> {
    if (this.running) throw new CodedError('ERR_PIPELINE_STATE', `pipeline ${this.opts.camera} already running`);
    this.prepare();
    this.running = true;
    if (this.opts.ownsSource ?? true) await this.opts.source.start?.();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // Stopping the source resolves a pending next() with null, which ends the loop.
    if (this.opts.ownsSource ?? true) await this.opts.source.stop?.();
    await this.loop;
  }

  /** Resolves when the source has ended (files) or the pipeline was stopped. */
  async done(): Promise<void> {
    await this.loop;
  }

  stats(): PipelineStats {
    return { ...this.counters, stages: this.timings.summary() };
  }

  /** Crossing counts per line and direction. */
  lineCounts(): Record<string, Record<string, number>> {
    return this.rules?.lineCounts() ?? {};
  }

  /** Processes one frame, for callers that bring their own frames (not while the pipeline is started). */
  async process(frame: Frame): Promise<FrameResult> {
    return this.finish(this.begin(frame));
  }

  /**
   * Gate and detection of one frame, started in frame order. The detections of a frame the gate skips
   * are the previous frame's (possibly still in flight): the scene has not changed since.
   */
  private begin(frame: Frame): InFlight {
    this.prepare();
    const t0 = performance.now();
    this.counters.frames++;
    const decision = this.gate ? this.gate.check(frame) : { run: true };
    const t1 = performance.now();
    const previous = this.lastDetections;
    let detections: Promise<Detected>;
    if (decision.run) {
      detections = this.detect(frame, previous);
    } else {
      this.counters.skippedByMotion++;
      detections = previous;
    }
    this.lastDetections = detections;
    return { frame, run: decision.run, t0, gateMs: t1 - t0, detections };
  }

  private async detect(frame: Frame, previous: Promise<Detected>): Promise<Detected> {
    try {
      const all = await this.opts.detector.detect(frame, { scoreThreshold: this.opts.detectScore ?? 0.1 });
      this.counters.inferences++;
      const raw = all.filter((d) => this.labels.has(d.label));
      return { norm: normaliseDetections(raw, frame.content), raw };
    } catch (err) {
      this.counters.errors++;
      this.opts.onError?.(new CodedError('ERR_DETECT_FAILED',
        `detector failed on camera ${this.opts.camera} frame ${frame.seq}: ${(err as Error).message}`, { cause: err }));
      // No fresh detections: reuse the last ones rather than make every track look lost.
      return previous;
    }
  }

  /** Tracking, rules and events of one frame; called strictly in frame order. */
  private async finish(f: InFlight): Promise<FrameResult> {
    const tracker = this.tracker as Tracker;
    const rules = this.rules as RuleEngine;
    const { frame } = f;
    const { norm: detections, raw: frameDetections } = await f.detections;
    const t2 = performance.now();
    const tracks = tracker.update(detections);
    const t3 = performance.now();
    const now = (this.opts.timeBase ?? 'wall') === 'media' ? frame.ptsMs : frame.receivedAt;
    // Normalised x and y differ in pixels; lines measure distance in the picture's true proportions.
    const c = frame.content;
    const aspect = c.sourceWidth > 0 && c.sourceHeight > 0 ? c.sourceWidth / c.sourceHeight : c.width / c.height;
    const hits = rules.evaluate(tracks, now, aspect);
    const t4 = performance.now();
    const timings: Partial<Record<Stage, number>> = {
      gate: f.gateMs, detect: t2 - f.t0 - f.gateMs, track: t3 - t2, rules: t4 - t3, total: t4 - f.t0,
    };
    for (const [stage, ms] of Object.entries(timings) as Array<[Stage, number]>) this.timings.record(stage, ms);

    const events: VideoEvent[] = [];
    if (hits.length > 0) {
      const latencyMs = Math.max(0, this.clock.now() - frame.receivedAt);
      const deviceTime = new Date(frame.receivedAt).toISOString();
      for (const h of hits) {
        const ev: VideoEvent = {
          kind: h.kind, severity: h.severity, camera: this.opts.camera, deviceTime, frameSeq: frame.seq,
          payload: h.payload, frame, frameDetections, latencyMs,
        };
        events.push(ev);
        this.counters.events++;
        this.emit(ev);
      }
    }
    const result: FrameResult = { frame, detected: f.run, detections, frameDetections, tracks, events, timings };
    this.opts.onFrame?.(result);
    return result;
  }

  private prepare(): void {
    if (this.tracker) return;
    this.gate = this.opts.motion === false ? undefined : new MotionGate(this.opts.motion ?? {});
    this.tracker = new Tracker(this.opts.tracker ?? {});
    this.rules = new RuleEngine(this.opts.rules);
  }

  private emit(ev: VideoEvent): void {
    try {
      this.opts.onEvent(ev);
    } catch (err) {
      // A consumer's bug must not stop the camera's analytics.
      this.counters.errors++;
      this.opts.logger?.error({ camera: this.opts.camera, err }, 'video event handler threw');
    }
  }

  /**
   * Up to `maxInFlight` frames are between detection start and finish: the next frame's preprocessing
   * (main thread) overlaps the current inference (worker), which is what brings the pipeline close to
   * raw session.run throughput. Tracking and rules still see frames one by one, in order.
   */
  private async run(): Promise<void> {
    const maxInFlight = Math.max(1, this.opts.maxInFlight ?? 2);
    const settle = async (f: InFlight) => {
      try {
        await this.finish(f);
      } catch (err) {
        this.counters.errors++;
        this.opts.onError?.(new CodedError('ERR_FRAME_FAILED',
          `camera ${this.opts.camera} frame ${f.frame.seq}: ${(err as Error).message}`, { cause: err }));
      }
    };
    // Each frame finishes after the one before it, as soon as its detections are in; the loop itself
    // only waits when maxInFlight frames are unfinished, never for the next frame to arrive.
    let chain: Promise<void> = Promise.resolve();
    const unfinished: Array<Promise<void>> = [];
    while (this.running) {
      let frame: Frame | null;
      try {
        frame = await this.opts.source.next();
      } catch (err) {
        this.counters.errors++;
        this.opts.onError?.(new CodedError('ERR_SOURCE_FAILED', `frame source of ${this.opts.camera} failed`, { cause: err }));
        break;
      }
      if (!frame) break;
      const f = this.begin(frame);
      chain = chain.then(() => settle(f));
      unfinished.push(chain);
      while (unfinished.length >= maxInFlight) await unfinished.shift();
    }
    await chain;
  }
}

interface InFlight {
  frame: Frame;
  run: boolean;
  t0: number;
  gateMs: number;
  detections: Promise<Detected>;
}

/** One inference's boxes: normalised for the tracker, in frame pixels for snapshots. */
interface Detected {
  norm: NormDetection[];
  raw: Detection[];
}
