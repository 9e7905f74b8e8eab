/**
 * The edge agent: one object that builds every part first, then starts them in a written order and stops
 * them in reverse (after Frigate's app.py and Zigbee2MQTT's controller, which build every extension before
 * starting any):
 *
 *   outbox → care → broker → devices → linkage → privacy → cameras → video → evidence → uplink
 *     → cloud commands → health report → admin
 *
 * The outbox comes first because the broker's PUBACK waits on it. The care monitor exists from the first
 * instant and listens before the broker takes a message, so an enrolled resident's SOS during start-up is
 * its to raise (issue #18: the linkage engine used to ask about enrolment before the monitor existed). The
 * camera side comes after the linkage and never fails the start: a camera that is unreachable or refuses
 * the password is retried in the background and its actions fail fast (issue #14). The uplink comes last
 * because nothing must be lost if the cloud is unreachable at start (everything waits in the outbox).
 * Evidence (issue #16) starts after the cameras it records: every record the parts send up passes the
 * outbox tap, so the evidence planner hears each event and alarm once it is durable.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { edgeDownTopic } from '@safe-community/contracts';
import { HealthBoard, makePrivate, createLogger, systemClock, type Clock, type HealthCheck, type HealthReport, type Logger, type PartHealth } from '@safe-community/runtime';
import { loadProfiles } from '@safe-community/firmware-configs';
import { EdgeBroker } from './broker/index.js';
import { DeviceGateway } from './devices/index.js';
import { LinkageEngine, BUILTIN_RULES_FILE } from './linkage/index.js';
import { Outbox } from './outbox/index.js';
import { Uplink } from './uplink/index.js';
import { UplinkStallWatch } from './uplink/stall-watch.js';
import { CloudCommands } from './cloud-commands.js';
import { AdminServer } from './admin.js';
import { EdgeMetrics } from './metrics.js';
import { mergeDevices, readRegistry } from './registry.js';
import { EventHub } from './event-hub.js';
import { CompositeDirectory } from './directory.js';
import type { CameraManager, CameraStateBoard } from './camera/index.js';
import type { VideoAnalytics } from './video/video-analytics.js';
import { CareMonitor, consentFilter, loadResidents } from './care/index.js';
import { HealthReporter } from './health-report.js';
import { buildCameraParts } from './camera-parts.js';
import { SinkTap, type Evidence } from './evidence/index.js';
import type { EdgeConfig } from './config.js';
import type { CameraPort } from './ports.js';

export interface EdgeAgentOptions {
  config: EdgeConfig;
  logger?: Logger;
  clock?: Clock;
  /** Camera actions for the linkage engine (ONVIF); without it camera actions are recorded as failed. */
  cameras?: CameraPort;
}

const LIFE_SAFETY_KINDS = new Set(['fire_panel', 'access_gate', 'car_barrier']);

interface Part {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What /health says of it while it runs; default up. */
  health?: HealthCheck;
}

export class EdgeAgent {
  readonly config: EdgeConfig;
  readonly log: Logger;
  outbox!: Outbox;
  broker!: EdgeBroker;
  devices!: DeviceGateway;
  linkage!: LinkageEngine;
  uplink: Uplink | null = null;
  admin: AdminServer | null = null;
  /** Canonical events from devices, cameras and video analytics, as the linkage engine hears them. */
  events!: EventHub;
  cameras: CameraManager | null = null;
  video: VideoAnalytics | null = null;
  care: CareMonitor | null = null;
  /** Ring buffers per camera and clips around alarms; null without cameras. */
  evidence: Evidence | null = null;
  /** Every camera's state (connecting, online, degraded, offline, unauthorized) with its reason. */
  cameraStates!: CameraStateBoard;
  healthReport!: HealthReporter;
  /** Prometheus series served on the admin /metrics; the video pipeline reports through its video* functions. */
  metrics!: EdgeMetrics;
  /**
   * What /health reports: every started part registers here (up while started); parts with more to say
   * (broker, uplink, cameras) register their own check under their name.
   */
  readonly healthBoard = new HealthBoard();
  private readonly started: Part[] = [];
  private lastInvalidAckAlarm = -Infinity;
  private readonly unregister = new Map<string, () => void>();

  constructor(private readonly opts: EdgeAgentOptions) {
    this.config = opts.config;
    this.log = opts.logger ?? createLogger({ name: 'edge-agent', level: opts.config.logLevel });
  }

  async start(): Promise<void> {
    const parts = await this.build();
    for (const part of parts) await this.startPart(part);
    this.log.info({ edge: this.config.edge.id, port: this.broker.port, devices: this.devices.list().length, cameras: this.cameraStates.list().length, admin: this.admin?.port }, 'edge agent started');
  }

  /** Builds every part and wires the ports; returns the parts in start order. Starts nothing. */
  private async build(): Promise<Part[]> {
    const { config: cfg } = this;
    const clock = this.opts.clock ?? systemClock;
    const dataDir = resolve(cfg.dataDir);
    await makePrivate(dataDir);
    const log = this.log.child({ edge: cfg.edge.id });
    // Read before the devices start: the residents' consent decides what their wearables may send.
    const residents = cfg.care.residentsFile ? await loadResidents(cfg.care.residentsFile) : null;
    const parts: Part[] = [];
    const part = (name: string, p: { start(): Promise<void>; stop(): Promise<void> }, health?: HealthCheck) =>
      parts.push({ name, start: () => p.start(), stop: () => p.stop(), ...(health ? { health } : {}) });

    this.outbox = new Outbox({
      dir: join(dataDir, 'outbox'),
      edge: cfg.edge.id,
      site: cfg.edge.site,
      capacity: { maxBytes: cfg.outbox.capacityBytes },
      fsyncIntervalMs: cfg.outbox.fsyncIntervalMs,
      clock,
      logger: log,
      onHighWater: (alarm) => {
        log.warn({ alarm: alarm.type }, alarm.message);
        this.outbox.append({ type: 'alarm', data: alarm }).catch((err) => log.error({ err }, 'outbox high-water alarm not stored'));
      },
    });
    this.broker = new EdgeBroker({
      dataDir: join(dataDir, 'broker'),
      host: cfg.broker.host,
      port: cfg.broker.port,
      ...(cfg.broker.tls ? { tls: cfg.broker.tls } : {}),
      maxPayloadBytes: cfg.broker.maxPayloadBytes,
      rateLimit: cfg.broker.ratePerSecond > 0 ? { perSecond: cfg.broker.ratePerSecond, burst: cfg.broker.rateBurst } : false,
      // A fire panel in an alarm storm reports every detector of a loop at once: none of it may be refused.
      rateLimitExempt: (id) => this.devices?.get(id)?.kind === 'fire_panel',
      maxPacketBytes: cfg.broker.maxPacketBytes,
      auth: {
        concurrency: cfg.broker.authConcurrency,
        maxQueue: cfg.broker.authQueue,
        perSource: cfg.broker.connectRatePerSecond > 0 ? { perSecond: cfg.broker.connectRatePerSecond, burst: cfg.broker.connectBurst } : false,
      },
      // The devices a fire linkage reads and drives authenticate first when many connect at once.
      authPriority: (id) => LIFE_SAFETY_KINDS.has(this.devices?.get(id)?.kind ?? ''),
      logger: log,
      clock,
    });
    // Every part sends up through the tap, so the evidence planner hears every event and alarm.
    const sink = new SinkTap(this.outbox, log);
    this.devices = new DeviceGateway({
      site: cfg.edge.site,
      edge: cfg.edge.id,
      broker: this.broker,
      sink,
      devices: mergeDevices(cfg.devices, await readRegistry(dataDir)),
      // Consent is applied before anything is stored: a resident's unconsented measurements stay on the box.
      ...(residents ? { admitTelemetry: consentFilter(residents) } : {}),
      profiles: await loadProfiles(),
      logger: log,
      clock,
    });
    this.broker.use(this.devices);
    this.events = new EventHub(log);
    this.events.add(this.devices);
    this.metrics = new EdgeMetrics({ edge: cfg.edge.id, site: cfg.edge.site });
    this.metrics.attach({ outbox: this.outbox, broker: this.broker, devices: this.devices, consent: this.devices });
    if (residents) {
      // Elderly care works offline like the linkage: its alarms go through the same outbox.
      this.care = new CareMonitor({
        site: cfg.edge.site, edge: cfg.edge.id, residents,
        events: this.devices, telemetry: this.devices, devices: this.devices, sink,
        stateFile: join(dataDir, 'care-state.json'), clock, logger: log,
      });
      this.metrics.attach({ care: this.care });
    }

    const tagsOf = (id: string) => this.devices.get(id)?.tags ?? cfg.cameras.find((c) => c.id === id)?.tags;
    const cams = buildCameraParts({ config: cfg, dataDir, hub: this.events, sink, metrics: () => this.metrics, tagsOf, clock, log });
    this.cameraStates = cams.board;
    // Each camera answers for itself on /health: never worse than degraded, so a dead camera degrades only
    // itself and never reads as the gateway down (issue 14).
    for (const c of cams.board.list()) {
      this.healthBoard.register(`camera:${c.camera}`, () => {
        const h = cams.board.get(c.camera);
        return !h || h.state === 'online' ? { state: 'up' } : { state: 'degraded', reason: `${h.state}${h.reason ? `: ${h.reason}` : ''} (since ${h.since})` };
      });
    }
    this.cameras = cams.cameras;
    this.video = cams.video;
    const evidence = cams.evidence;
    this.evidence = evidence;
    if (evidence) {
      sink.listen((msg) => evidence.observe(msg));
      this.metrics.attach({ evidence });
      for (const camera of evidence.recorders.keys()) this.healthBoard.register(`recorder:${camera}`, () => evidence.recorderHealth(camera));
    }
    const board = cams.board;
    // Camera actions need the ONVIF link; a stream-only camera is usable while its stream flows.
    const directory = new CompositeDirectory(this.devices, cfg.cameras.map((c) => ({ id: c.id, tags: { ...c.tags } })),
      (id) => (board.get(id)?.link !== undefined ? board.controllable(id) : board.get(id)?.state === 'online'));
    const cameraPort = this.opts.cameras ?? cams.cameras;
    const care = this.care;
    this.linkage = new LinkageEngine({
      events: this.events,
      devices: directory,
      commands: this.devices,
      ...(cameraPort ? { cameras: cameraPort } : {}),
      sink,
      log,
      clock,
      stateFile: join(dataDir, 'linkage-holds.json'),
      ruleFiles: [...(cfg.linkage.builtinRules ? [BUILTIN_RULES_FILE] : []), ...cfg.linkage.ruleFiles],
      ...(cfg.linkage.timeZone ? { timeZone: cfg.linkage.timeZone } : {}),
      handledBy: { care: (device) => care?.enrolled(device) ?? false },
    });
    this.linkage.onExecution((report) => this.metrics.observeLinkage(report.execution));

    part('outbox', this.outbox);
    if (care) part('care', care);
    part('broker', this.broker, () => this.broker.health());
    part('devices', this.devices);
    part('linkage', this.linkage);
    if (cams.privacy) part('privacy', cams.privacy);
    if (cams.cameras) part('cameras', cams.cameras);
    if (cams.video) part('video', cams.video);
    if (evidence) part('evidence', evidence, () => evidence.health());
    if (cfg.uplink.url) {
      const commands = new CloudCommands({ edge: cfg.edge.id, devices: this.devices, guard: this.linkage, sink: this.outbox, logger: log });
      this.uplink = new Uplink({
        url: cfg.uplink.url,
        edge: cfg.edge.id,
        site: cfg.edge.site,
        source: this.outbox,
        ...(cfg.uplink.username ? { username: cfg.uplink.username } : {}),
        ...(cfg.uplink.password ? { password: cfg.uplink.password } : {}),
        ...(cfg.uplink.secret ? { secret: cfg.uplink.secret } : {}),
        maxDownSkewMs: cfg.uplink.maxDownSkewMs,
        // Refused down messages are dead letters like refused device messages; a forged ack is an alarm too.
        onDownRefused: (r) => this.broker.deadLetters.record({ reason: r.code, detail: r.reason, topic: edgeDownTopic(cfg.edge.id), payload: r.payload }),
        onInvalidAck: (info) => this.raiseInvalidAck(info),
        maxBatchMessages: cfg.uplink.maxBatchMessages,
        window: cfg.uplink.window,
        ackTimeoutMs: cfg.uplink.ackTimeoutMs,
        clock,
        logger: log,
        onCommand: (cmd) => commands.run(cmd),
      });
      const uplink = this.uplink;
      this.metrics.attach({ uplink });
      const watch = new UplinkStallWatch({
        site: cfg.edge.site, edge: cfg.edge.id, stallMs: cfg.uplink.stallAfterSec * 1000, checkMs: Math.min(5000, cfg.uplink.stallAfterSec * 250),
        source: () => uplink.metrics(), clock, log,
        raise: (alarm) => void this.outbox.append({ type: 'alarm', data: alarm }).catch((err: unknown) => log.error({ err }, 'uplink stall alarm not stored')),
      });
      // Forged acks are refused and alarmed (uplink.ack_invalid); health names them without degrading the link.
      const uplinkHealth = (): PartHealth => {
        const h = watch.health();
        const invalid = uplink.metrics().ackInvalid;
        return invalid > 0 && h.state === 'up' ? { state: 'up', reason: `${invalid} invalid acks ignored` } : h;
      };
      part('uplink', uplink, uplinkHealth);
      part('uplink watch', watch);
      parts.push({ name: 'cloud commands', start: async () => {}, stop: () => commands.stop() });
    } else {
      log.warn('uplink.url is not set: events stay in the outbox until an uplink is configured');
    }
    this.healthReport = new HealthReporter({
      site: cfg.edge.site, edge: cfg.edge.id, sink: this.outbox, everyMs: cfg.healthReportSec * 1000, log,
      sources: { outbox: () => this.outbox.stats(), uplinkLagMs: () => this.uplink?.metrics().lagMs ?? null },
    });
    part('health report', this.healthReport);
    if (cfg.admin.enabled) {
      this.admin = new AdminServer({
        host: cfg.admin.host,
        port: cfg.admin.port,
        sources: {
          devices: directory,
          drill: (building, zone) => this.linkage.drill(building, zone ? { zone } : {}),
          health: () => this.health(),
          cameras: () => board.list(),
          metrics: () => this.metrics.render(),
        },
      });
      part('admin', this.admin);
    }
    return parts;
  }

  /**
   * Each part up / degraded / down with its reason (issue 13): a part not (or no longer) running is absent,
   * and the life-safety core (outbox, broker, devices, linkage) missing makes the report down.
   */
  async health(): Promise<HealthReport> {
    const report = await this.healthBoard.report();
    for (const core of ['outbox', 'broker', 'devices', 'linkage']) {
      if (!report.parts[core]) {
        report.parts[core] = { state: 'down', reason: 'not running' };
        report.status = 'down';
      }
    }
    return report;
  }

  /** Stops what started, in reverse order; keeps going past a part that fails to stop. */
  async stop(): Promise<void> {
    this.events?.close();
    while (this.started.length > 0) {
      const part = this.started.pop()!;
      this.unregister.get(part.name)?.();
      try {
        await part.stop();
      } catch (err) {
        this.log.error({ err, part: part.name }, 'part failed to stop');
      }
    }
  }

  /**
   * An ack beyond what this edge sent (issue 12, item 3): the uplink ignored it; the cloud and the staff
   * hear of it as an alarm, at most one a minute so a flood of forged acks cannot flood the outbox.
   */
  private raiseInvalidAck(info: { upTo: number; highestSent: number }): void {
    const cfg = this.opts.config;
    const now = (this.opts.clock ?? systemClock).now();
    this.broker.deadLetters.record({ reason: 'ERR_UPLINK_ACK_INVALID', detail: `ack upTo ${info.upTo} beyond the highest seq sent (${info.highestSent})`, topic: edgeDownTopic(cfg.edge.id) });
    if (now - this.lastInvalidAckAlarm < 60_000) return;
    this.lastInvalidAckAlarm = now;
    const alarm = {
      id: randomUUID(), site: cfg.edge.site, edge: cfg.edge.id, device: cfg.edge.id, type: 'uplink.ack_invalid', severity: 'major' as const,
      state: 'open' as const, raisedAt: new Date(now).toISOString(), count: 1,
      message: `edge ${cfg.edge.id} got an ack up to ${info.upTo} but has sent only up to ${info.highestSent}: ignored (forged or broken down message)`,
    };
    this.outbox.append({ type: 'alarm', data: alarm }).catch((err) => this.log.error({ err }, 'uplink.ack_invalid alarm not stored'));
  }

  private async startPart(part: Part): Promise<void> {
    try {
      await part.start();
    } catch (err) {
      this.log.error({ err, part: part.name }, 'part failed to start; stopping what started');
      await this.stop();
      throw err;
    }
    this.started.push(part);
    this.unregister.set(part.name, this.healthBoard.register(part.name, part.health ?? (() => ({ state: 'up' }))));
  }
}
