/**
 * On-edge video analytics for the cameras that have an `analytics` section: one shared detector (worker
 * threads), one frame source + pipeline per camera, and for every event a face-blurred JPEG snapshot stored
 * before the event leaves the pipeline. Events go to the linkage engine (through the hub) and the outbox;
 * per-camera figures (inference ms, fps, dropped frames) go up as edge.* telemetry every `statsEveryMs`.
 */
import { randomUUID } from 'node:crypto';
import { createDetector, createPlateReader, type Detection, type OnnxDetector, type PlateReader, type PrivacyFilter, type RawFrame } from '@safe-community/analytics';
import type { Event } from '@safe-community/contracts';
import { CameraPipeline, FrameSource, toCanonicalEvent, type VideoEvent, type RulesConfig } from '@safe-community/analytics/video';
import type { Logger } from '@safe-community/runtime';
import type { SnapshotStore } from '../camera/index.js';
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
}

interface Running {
  camera: VideoCamera;
  source: FrameSource;
  pipeline: CameraPipeline;
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
      const input = await camera.input();
      const plates = camera.plates && this.plateReader ? new PlateWatch(this.plateReader, { camera: camera.id, ...camera.plates }) : null;
      const source = new FrameSource({
        camera: camera.id, input, fps: camera.fps, width: 416, height: 416, scale: 'letterbox',
        ...(camera.loop ? { preset: 'file-loop' as const } : {}),
        logger: opts.log,
      });
      const pipeline = new CameraPipeline({
        camera: camera.id, source, detector: this.detector, rules: camera.rules, labels: ['person', 'car', 'bicycle', 'motorcycle', 'bus', 'truck'],
        motion: camera.motion ? {} : false,
        onEvent: (e) => void this.publish(camera, e),
        onFrame: (r) => opts.onFrame?.(camera.id, r),
        onError: (err) => opts.log.warn({ camera: camera.id, err }, 'frame not processed'),
      });
      await pipeline.start();
      // Plates are read from a full-resolution decode of the same stream, not the detector's 416×416 frame.
      const plateFeed = plates && camera.plates ? new PlateFeed({
        camera: camera.id, input, loop: camera.loop, width: camera.plates.width ?? 1280, height: camera.plates.height ?? 720,
        everyMs: camera.plates.everyMs, watch: plates, log: opts.log,
        onSighting: (s, frame) => void this.publishPlate(camera, s, frame),
      }) : null;
      await plateFeed?.start();
      this.running.push({ camera, source, pipeline, lastFrames: 0, lastDropped: 0, plateFeed });
    }
    this.lastStatsAt = Date.now();
    this.timer = setInterval(() => void this.reportStats(), opts.statsEveryMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const r of this.running.splice(0).reverse()) {
      await r.plateFeed?.stop();
      await r.pipeline.stop();
    }
    await this.plateReader?.stop();
    this.plateReader = null;
    await this.detector?.stop();
    this.detector = null;
  }

  /** Per-camera processed frame counts and line counts, for the demo's printout. */
  summary(): Array<{ camera: string; frames: number; lines: Record<string, Record<string, number>> }> {
    return this.running.map((r) => ({ camera: r.camera.id, frames: r.pipeline.stats().frames, lines: r.pipeline.lineCounts() }));
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
