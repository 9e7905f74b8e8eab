/**
 * On-edge video analytics for the cameras that have an `analytics` section: one shared detector (worker
 * threads), one frame source + pipeline per camera, and for every event a face-blurred JPEG snapshot stored
 * before the event leaves the pipeline. Events go to the linkage engine (through the hub) and the outbox;
 * per-camera figures (inference ms, fps, dropped frames) go up as edge.* telemetry every `statsEveryMs`.
 * Each camera's stream is supervised on its own (CameraStream): a camera that is unreachable at start, or
 * whose stream dies, never stops the others nor the agent; it raises camera.stream_lost and, when frames
 * come back, camera.stream_restored.
 */
import { randomUUID } from 'node:crypto';
import { createDetector, createPlateReader, type Detection, type OnnxDetector, type PlateReader, type PrivacyFilter, type RawFrame } from '@safe-community/analytics';
import type { Event } from '@safe-community/contracts';
import { CameraPipeline, FrameSource, toCanonicalEvent, type VideoEvent, type RulesConfig } from '@safe-community/analytics/video';
import type { Logger } from '@safe-community/runtime';
import type { SnapshotStore, StreamState } from '../camera/index.js';
import { CameraStream, type StreamLoss } from './camera-stream.js';
import type { EventHub } from '../event-hub.js';
import type { UplinkSink } from '../ports.js';
import { PlateWatch, type PlateSighting } from './plate-watch.js';
import { PlateFeed } from './plate-feed.js';

export interface VideoCamera {
  id: string;
  tags: Record<string, string>;
  /** Where frames come from: an RTSP URL (from ONVIF, with credentials) or a file for tests and demos. */
  input: () => Promise<string>;
  fps: number;
  /** Loop a file input (demo camera playing a video). */
  loop: boolean;
  rules: RulesConfig;
  motion: boolean;
  /** A camera at a barrier lane: read plates and report vehicle.arrived at that barrier. */
  plates?: { barrier: string; lane?: string; minConfidence: number; everyMs: number; repeatMs: number; minAgree?: number; width?: number; height?: number };
}

export interface VideoAnalyticsOptions {
  site: string;
  edge: string;
  model: string;
  modelsDir?: string;
  cameras: readonly VideoCamera[];
  hub: EventHub;
  sink: UplinkSink;
  snapshots: SnapshotStore;
  /** Face blur for snapshots (started and stopped by the owner). */
  privacy: PrivacyFilter;
  log: Logger;
  statsEveryMs?: number;
  /** Per processed frame (Prometheus: inference ms, fps). */
  onFrame?: (camera: string, result: { detected: boolean; timings: Partial<Record<string, number>> }) => void;
  /** Frames the source dropped since the last report (latest-frame-wins under load). */
  onDropped?: (camera: string, count: number) => void;
  /** Stream state changes per camera (for the camera state board and the fps gauge). */
  onStreamState?: (camera: string, state: StreamState, why?: { code: string; reason: string }) => void;
  /** No frame for this long → camera.stream_lost; default 10 s. */
  streamLostAfterMs?: number;
  /** Longest wait between decoder restarts and between attempts to find a stream address; default 4 s. */
  maxRetryMs?: number;
}

interface Running {
  camera: VideoCamera;
  stream: CameraStream;
  /** Set once the stream's address is known and its decoder opened. */
  source: FrameSource | null;
  pipeline: CameraPipeline | null;
  lastFrames: number;
  lastDropped: number;
  plateFeed: PlateFeed | null;
}

export class VideoAnalytics {
  private detector: OnnxDetector | null = null;
  private plateReader: PlateReader | null = null;
  private readonly running: Running[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastStatsAt = 0;

  constructor(private readonly opts: VideoAnalyticsOptions) {}

  async start(): Promise<void> {
    const { opts } = this;
    this.detector = createDetector({ model: opts.model, ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}) });
    await this.detector.start();
    if (opts.cameras.some((c) => c.plates)) {
      this.plateReader = createPlateReader(opts.modelsDir ? { modelsDir: opts.modelsDir } : {});
      await this.plateReader.start();
    }
    for (const camera of opts.cameras) {
      const maxRetryMs = opts.maxRetryMs ?? 4000;
      const running: Running = { camera, source: null, pipeline: null, plateFeed: null, lastFrames: 0, lastDropped: 0, stream: undefined as unknown as CameraStream };
      running.stream = new CameraStream({
        camera: camera.id, resolveInput: camera.input, log: opts.log,
        lostAfterMs: opts.streamLostAfterMs ?? 10_000, retry: { initialMs: Math.min(1000, maxRetryMs), maxMs: maxRetryMs },
        open: (input) => this.open(running, input, maxRetryMs),
        onState: (id, state, why) => opts.onStreamState?.(id, state, why),
        onLost: (loss) => void this.streamLost(camera, loss),
        onRestored: (_id, downMs) => void this.status(camera, 'camera.stream_restored', 'info', { downMs: Math.round(downMs) }),
      });
      this.running.push(running);
      running.stream.start();
    }
    this.lastStatsAt = Date.now();
    this.timer = setInterval(() => void this.reportStats(), opts.statsEveryMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const r of this.running.splice(0).reverse()) await r.stream.stop();
    await this.plateReader?.stop();
    this.plateReader = null;
    await this.detector?.stop();
    this.detector = null;
  }

  /** The decoder and pipeline of one camera, once its stream address is known. */
  private open(running: Running, input: string, maxRetryMs: number): { start(): Promise<void>; stop(): Promise<void> } {
    const { opts } = this;
    const { camera, stream } = running;
    const plates = camera.plates && this.plateReader ? new PlateWatch(this.plateReader, { camera: camera.id, ...camera.plates }) : null;
    const source = new FrameSource({
      camera: camera.id, input, fps: camera.fps, width: 416, height: 416, scale: 'letterbox',
      ...(camera.loop ? { preset: 'file-loop' as const } : {}),
      // Capped short waits, no long offline pause: frames flow again within seconds of the camera's return.
      restart: { backoff: { initialMs: 500, maxMs: maxRetryMs, factor: 2, jitter: 0.5 }, offlineRetryMs: maxRetryMs },
      onStatus: (status) => stream.sourceStatus(status),
      logger: opts.log,
    });
    const pipeline = new CameraPipeline({
      camera: camera.id, source, detector: this.detector!, rules: camera.rules, labels: ['person', 'car', 'bicycle', 'motorcycle', 'bus', 'truck'],
      motion: camera.motion ? {} : false,
      onEvent: (e) => void this.publish(camera, e),
      onFrame: (r) => {
        stream.frame();
        opts.onFrame?.(camera.id, r);
      },
      onError: (err) => opts.log.warn({ camera: camera.id, err }, 'frame not processed'),
    });
    // Plates are read from a full-resolution decode of the same stream, not the detector's 416×416 frame.
    const plateFeed = plates && camera.plates ? new PlateFeed({
      camera: camera.id, input, loop: camera.loop, width: camera.plates.width ?? 1280, height: camera.plates.height ?? 720,
      everyMs: camera.plates.everyMs, watch: plates, log: opts.log,
      onSighting: (s, frame) => void this.publishPlate(camera, s, frame),
    }) : null;
    running.source = source;
    running.pipeline = pipeline;
    running.plateFeed = plateFeed;
    return {
      start: async () => {
        await pipeline.start();
        await plateFeed?.start();
      },
      stop: async () => {
        await plateFeed?.stop();
        await pipeline.stop();
      },
    };
  }

  /** Per-camera processed frame counts and line counts, for the demo's printout. */
  summary(): Array<{ camera: string; frames: number; lines: Record<string, Record<string, number>> }> {
    return this.running.map((r) => ({ camera: r.camera.id, frames: r.pipeline?.stats().frames ?? 0, lines: r.pipeline?.lineCounts() ?? {} }));
  }

  /** Each analysed camera's stream state. */
  streams(): Array<{ camera: string; state: StreamState }> {
    return this.running.map((r) => ({ camera: r.camera.id, state: r.stream.current }));
  }

  private streamLost(camera: VideoCamera, loss: StreamLoss): Promise<void> {
    this.opts.log.warn({ camera: camera.id, code: loss.code, silentMs: loss.silentMs }, `camera stream lost: ${loss.reason}`);
    return this.status(camera, 'camera.stream_lost', 'major', {
      code: loss.code, reason: loss.reason, silentMs: Math.round(loss.silentMs), everFlowed: loss.everFlowed,
    });
  }

  /** A stream state event: no picture to store, straight to the linkage engine and the outbox. */
  private async status(camera: VideoCamera, kind: string, severity: Event['severity'], payload: Record<string, unknown>): Promise<void> {
    const { opts } = this;
    const event: Event = {
      id: randomUUID(), site: opts.site, edge: opts.edge, device: camera.id, kind, severity,
      edgeTime: new Date().toISOString(), tags: { ...camera.tags }, payload,
    };
    try {
      opts.hub.emit(event);
      await opts.sink.append({ type: 'event', data: event });
    } catch (err) {
      opts.log.error({ camera: camera.id, kind, err }, 'camera stream event not recorded');
    }
  }

  private publish(camera: VideoCamera, ev: VideoEvent): Promise<void> {
    const event = toCanonicalEvent(ev, { id: randomUUID(), site: this.opts.site, edge: this.opts.edge });
    event.tags = { ...camera.tags, ...(event.tags ?? {}) };
    return this.record(camera, event, ev.frame, ev.frameDetections);
  }

  private publishPlate(camera: VideoCamera, sighting: PlateSighting, frame: RawFrame): Promise<void> {
    const { opts } = this;
    return this.record(camera, {
      id: randomUUID(), site: opts.site, edge: opts.edge, device: sighting.barrier, kind: 'vehicle.arrived', severity: 'info',
      edgeTime: new Date().toISOString(), tags: { ...camera.tags }, payload: { ...sighting.payload },
    }, frame, []);
  }

  /** Stores the event's snapshot, blurred first (no unblurred face is ever written or sent), then emits and queues it. */
  private async record(camera: VideoCamera, event: Event, frame: RawFrame, detections: readonly Detection[]): Promise<void> {
    const { opts } = this;
    try {
      const snap = await opts.privacy.snapshot(frame, detections);
      event.payload = { ...event.payload, snapshot: await opts.snapshots.save(camera.id, snap.jpeg, new Date()), facesBlurred: snap.blurred.length };
      opts.hub.emit(event);
      await opts.sink.append({ type: 'event', data: event });
    } catch (err) {
      opts.log.error({ camera: camera.id, kind: event.kind, err }, 'video event not recorded');
    }
  }

  private async reportStats(): Promise<void> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.lastStatsAt) / 1000);
    this.lastStatsAt = now;
    const time = new Date(now).toISOString();
    for (const r of this.running) {
      if (!r.pipeline || !r.source) {
        // No stream yet (its address is still unknown): the camera analyses nothing, and says so.
        await this.opts.sink.append({ type: 'telemetry', data: { site: this.opts.site, edge: this.opts.edge, device: r.camera.id, metric: 'edge.fps', value: 0, unit: 'fps', time } })
          .catch((err: unknown) => this.opts.log.warn({ err }, 'video stats not recorded'));
        continue;
      }
      const s = r.pipeline.stats();
      const dropped = r.source.stats().dropped;
      const points: Array<[string, number, string]> = [
        ['edge.fps', (s.frames - r.lastFrames) / seconds, 'fps'],
        ['edge.dropped_frames', dropped - r.lastDropped, 'frames'],
      ];
      const inferMs = s.stages.detect?.p50Ms;
      if (typeof inferMs === 'number' && Number.isFinite(inferMs)) points.push(['edge.inference_ms', inferMs, 'ms']);
      if (dropped > r.lastDropped) this.opts.onDropped?.(r.camera.id, dropped - r.lastDropped);
      r.lastFrames = s.frames;
      r.lastDropped = dropped;
      for (const [metric, value, unit] of points) {
        await this.opts.sink.append({ type: 'telemetry', data: { site: this.opts.site, edge: this.opts.edge, device: r.camera.id, metric, value: Math.round(value * 100) / 100, unit, time } })
          .catch((err: unknown) => this.opts.log.warn({ err }, 'video stats not recorded'));
      }
    }
  }
}
