/**
 * Prometheus metrics of one edge agent (prom-client), served by the admin endpoint's /metrics.
 *
 * Two kinds of series live here. Gauges and counters that mirror state a part already keeps (outbox depth,
 * uplink lag, broker counters, devices online) are read at scrape time through `collect`, so the parts
 * need no metrics code and a scrape never sees a stale copy. Values that exist only as events (linkage
 * action latency, inference time per frame, dropped frames) are pushed: the agent forwards
 * LinkageEngine.onExecution reports, and the video pipeline calls the `video*` functions.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LinkageExecution } from '@safe-community/contracts';
import type { BrokerStats } from './broker/index.js';
import type { OutboxStats } from './outbox/index.js';
import type { UplinkMetrics } from './uplink/index.js';
import type { DeviceDirectory } from './ports.js';

/** What the metrics read at scrape time; every source is optional (a part that did not start reports nothing). */
export interface MetricSources {
  outbox?: { stats(): OutboxStats };
  uplink?: { metrics(): UplinkMetrics };
  broker?: { stats(): BrokerStats };
  devices?: DeviceDirectory;
  /** Telemetry kept at the edge for want of consent (the DeviceGateway). */
  consent?: { readonly withheld: number };
  care?: { stats(): { residents: number; alarms: number; sinkErrors: number } };
  /** Video evidence: bytes of clips waiting to upload. */
  evidence?: { stats(): { queueBytes: number; pending: number } };
}

export interface EdgeMetricsOptions {
  edge: string;
  site: string;
  /** Node process metrics (CPU, memory, event loop) with the edge_ prefix; default true. */
  processMetrics?: boolean;
}

/** Linkage latency buckets in seconds: a gate confirms in tens of ms on a LAN; retries push it to seconds. */
const LINKAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Inference buckets in ms: YOLOX-Nano on one core is tens of ms; a busy box can reach hundreds. */
const INFERENCE_BUCKETS = [5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000];

export class EdgeMetrics {
  readonly registry: Registry;
  private sources: MetricSources = {};
  private readonly linkageLatency: Histogram<'rule' | 'action'>;
  private readonly linkageExecutions: Counter<'rule' | 'status'>;
  private readonly linkageActions: Counter<'action' | 'status'>;
  private readonly inferenceMs: Histogram<'camera'>;
  private readonly fps: Gauge<'camera'>;
  private readonly frames: Counter<'camera'>;
  private readonly dropped: Counter<'camera'>;
  private readonly motionSkipped: Counter<'camera'>;
  private readonly evidenceSegments: Counter<'camera'>;
  private readonly evidenceBytes: Counter<'camera'>;
  private readonly evidenceRestarts: Counter<'camera'>;
  private readonly evidenceClips: Counter<'camera' | 'outcome'>;
  private readonly evidenceUploadFailures: Counter;
  /** Last frame time and smoothed interval per camera, for the fps gauge fed by observeFrame. */
  private readonly rate = new Map<string, { at: number; intervalMs: number }>();

  // Building series is pure bookkeeping (no I/O, no timers), so it happens here rather than in a start().
  constructor(opts: EdgeMetricsOptions) {
    const registry = new Registry();
    registry.setDefaultLabels({ edge: opts.edge, site: opts.site });
    this.registry = registry;
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'edge_' });
    const src = (): MetricSources => this.sources;

    new Gauge({
      name: 'edge_outbox_depth', help: 'records in the outbox not yet acknowledged by the cloud', registers: [registry],
      collect() { const s = src().outbox?.stats(); if (s) this.set(s.depth); },
    });
    new Gauge({
      name: 'edge_outbox_oldest_age_seconds', help: 'age of the oldest unacknowledged outbox record', registers: [registry],
      collect() { const s = src().outbox?.stats(); if (s) this.set(s.oldestAgeMs / 1000); },
    });
    new Gauge({
      name: 'edge_outbox_bytes', help: 'bytes of unacknowledged outbox records (capacity is measured on this)', registers: [registry],
      collect() { const s = src().outbox?.stats(); if (s) this.set(s.bytes); },
    });
    new Counter({
      name: 'edge_outbox_thinned_total', help: 'telemetry records dropped by the outbox capacity rule', registers: [registry],
      collect() { const s = src().outbox?.stats(); if (s) mirror(this, s.thinned); },
    });
    new Gauge({
      name: 'edge_uplink_connected', help: '1 while the uplink to the cloud broker is connected', registers: [registry],
      collect() { const m = src().uplink?.metrics(); this.set(m?.connected ? 1 : 0); },
    });
    new Gauge({
      name: 'edge_uplink_lag_seconds', help: 'append to cloud ack of the newest acknowledged record', registers: [registry],
      collect() { const m = src().uplink?.metrics(); if (m) this.set(m.lagMs / 1000); },
    });
    new Counter({
      name: 'edge_uplink_reconnects_total', help: 'uplink reconnect attempts', registers: [registry],
      collect() { const m = src().uplink?.metrics(); if (m) mirror(this, m.reconnects); },
    });
    new Counter({
      name: 'edge_broker_messages_accepted_total', help: 'device messages the edge broker accepted', registers: [registry],
      collect() { const s = src().broker?.stats(); if (s) mirror(this, s.accepted); },
    });
    new Counter({
      name: 'edge_broker_messages_refused_total', help: 'device messages or connections refused, by reason code', labelNames: ['reason'], registers: [registry],
      collect() {
        const s = src().broker?.stats();
        if (!s) return;
        this.reset();
        for (const [reason, n] of Object.entries(s.refused)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'edge_broker_state_write_failures_total', help: 'failed writes of the edge broker state file (retained messages, sessions)', registers: [registry],
      collect() { const s = src().broker?.stats(); if (s) mirror(this, s.stateWriteFailures); },
    });
    new Gauge({
      name: 'edge_devices_online', help: 'devices connected to the edge broker', registers: [registry],
      collect() { const d = src().devices; if (d) this.set(d.list().filter((x) => d.online(x.id)).length); },
    });
    new Counter({
      name: 'edge_telemetry_withheld_total', help: 'wearable measurements kept at the edge because the resident did not consent to them', registers: [registry],
      collect() { const c = src().consent; if (c) mirror(this, c.withheld); },
    });
    new Gauge({
      name: 'edge_care_residents', help: 'residents the care monitor watches', registers: [registry],
      collect() { const c = src().care; if (c) this.set(c.stats().residents); },
    });
    new Counter({
      name: 'edge_care_alarms_total', help: 'care alarms raised at the edge (SOS, fall, wandering, inactivity, vitals, battery, silence)', registers: [registry],
      collect() { const c = src().care; if (c) mirror(this, c.stats().alarms); },
    });
    new Counter({
      name: 'edge_care_records_lost_total', help: 'care records the outbox refused after retries (each is logged whole)', registers: [registry],
      collect() { const c = src().care; if (c) mirror(this, c.stats().sinkErrors); },
    });
    new Gauge({
      name: 'edge_devices_known', help: 'devices configured or provisioned on this edge', registers: [registry],
      collect() { const d = src().devices; if (d) this.set(d.list().length); },
    });

    this.linkageLatency = new Histogram({
      name: 'edge_linkage_action_confirmed_seconds', help: 'trigger received to read-back confirmation, per linked action',
      labelNames: ['rule', 'action'], buckets: LINKAGE_BUCKETS, registers: [registry],
    });
    this.linkageExecutions = new Counter({
      name: 'edge_linkage_executions_total', help: 'linkage executions by outcome', labelNames: ['rule', 'status'], registers: [registry],
    });
    this.linkageActions = new Counter({
      name: 'edge_linkage_actions_total', help: 'linked actions by outcome', labelNames: ['action', 'status'], registers: [registry],
    });
    this.inferenceMs = new Histogram({
      name: 'edge_inference_ms', help: 'detector time per frame in milliseconds', labelNames: ['camera'], buckets: INFERENCE_BUCKETS, registers: [registry],
    });
    this.fps = new Gauge({ name: 'edge_video_fps', help: 'frames per second analysed', labelNames: ['camera'], registers: [registry] });
    this.frames = new Counter({ name: 'edge_video_frames_total', help: 'frames analysed', labelNames: ['camera'], registers: [registry] });
    this.motionSkipped = new Counter({
      name: 'edge_video_motion_skipped_total', help: 'frames the motion gate passed without detection', labelNames: ['camera'], registers: [registry],
    });
    this.dropped = new Counter({
      name: 'edge_video_dropped_frames_total', help: 'frames dropped because analysis fell behind the camera', labelNames: ['camera'], registers: [registry],
    });
    this.evidenceSegments = new Counter({ name: 'edge_evidence_segments_total', help: 'ring buffer segments written', labelNames: ['camera'], registers: [registry] });
    this.evidenceBytes = new Counter({ name: 'edge_evidence_segment_bytes_total', help: 'bytes of ring buffer segments written', labelNames: ['camera'], registers: [registry] });
    this.evidenceRestarts = new Counter({ name: 'edge_evidence_recorder_restarts_total', help: 'ring recorder ffmpeg restarts (exits and stalls)', labelNames: ['camera'], registers: [registry] });
    this.evidenceClips = new Counter({
      name: 'edge_evidence_clips_total', help: 'evidence clips by outcome: made (cut), dropped (queue full), failed (cut or blur failed: not sent)',
      labelNames: ['camera', 'outcome'], registers: [registry],
    });
    this.evidenceUploadFailures = new Counter({ name: 'edge_evidence_upload_failures_total', help: 'clip upload attempts that failed', registers: [registry] });
    new Gauge({
      name: 'edge_evidence_queue_bytes', help: 'bytes of evidence clips waiting to upload', registers: [registry],
      collect() { const s = src().evidence?.stats(); if (s) this.set(s.queueBytes); },
    });
  }

  // The evidence part reports through these (EvidenceObserver).
  segmentWritten(camera: string, bytes: number): void {
    this.evidenceSegments.inc({ camera });
    this.evidenceBytes.inc({ camera }, bytes);
  }

  recorderRestarted(camera: string): void {
    this.evidenceRestarts.inc({ camera });
  }

  clipMade(camera: string): void {
    this.evidenceClips.inc({ camera, outcome: 'made' });
  }

  clipDropped(camera: string): void {
    this.evidenceClips.inc({ camera, outcome: 'dropped' });
  }

  clipFailed(camera: string): void {
    this.evidenceClips.inc({ camera, outcome: 'failed' });
  }

  uploadFailed(): void {
    this.evidenceUploadFailures.inc();
  }

  /** Points the scrape-time series at the agent's parts; call again when a part starts later. */
  attach(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** Feed for LinkageEngine.onExecution: one observation per action that confirmed by read-back. */
  observeLinkage(execution: LinkageExecution): void {
    this.linkageExecutions.inc({ rule: execution.rule, status: execution.status });
    for (const a of execution.actions) {
      this.linkageActions.inc({ action: a.action, status: a.status });
      if (a.confirmedAfterMs !== undefined) this.linkageLatency.observe({ rule: execution.rule, action: a.action }, a.confirmedAfterMs / 1000);
    }
  }

  /** The video pipeline reports each detector run. */
  videoInference(camera: string, ms: number): void {
    this.inferenceMs.observe({ camera }, ms);
  }

  /** The video pipeline reports analysed frames (and may report its measured rate). */
  videoFrames(camera: string, count = 1): void {
    this.frames.inc({ camera }, count);
  }

  videoFps(camera: string, fps: number): void {
    this.fps.set({ camera }, fps);
  }

  /** The camera's stream stopped delivering: its rate is 0 until frames come back, and the rate starts afresh then. */
  videoStalled(camera: string): void {
    this.fps.set({ camera }, 0);
    this.rate.delete(camera);
  }

  videoDropped(camera: string, count = 1): void {
    this.dropped.inc({ camera }, count);
  }

  /**
   * For CameraPipeline's onFrame: counts the frame, observes the detector time when the detector ran (the
   * motion gate may skip it), and keeps the fps gauge as a smoothed rate of frame arrivals.
   */
  observeFrame(camera: string, result: { detected: boolean; timings: Partial<Record<string, number>> }, now = performance.now()): void {
    this.frames.inc({ camera });
    const ms = result.timings.detect;
    if (result.detected && ms !== undefined) this.inferenceMs.observe({ camera }, ms);
    if (!result.detected) this.motionSkipped.inc({ camera });
    const r = this.rate.get(camera);
    if (!r) {
      this.rate.set(camera, { at: now, intervalMs: 0 });
      return;
    }
    const dt = now - r.at;
    // EWMA over roughly the last ten frames: steady enough to graph, quick to show a stall.
    r.intervalMs = r.intervalMs === 0 ? dt : r.intervalMs * 0.9 + dt * 0.1;
    r.at = now;
    if (r.intervalMs > 0) this.fps.set({ camera }, Math.round((10_000 / r.intervalMs)) / 10);
  }

  /** The admin endpoint's `metrics` source. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A counter that mirrors a part's own cumulative count (which restarts from 0 with the process, as counters do). */
function mirror(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}
