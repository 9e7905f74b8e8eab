/**
 * The edge agent: one object that starts its parts in a written order and stops them in reverse
 * (after Frigate's app.py and Zigbee2MQTT's controller).
 *
 *   outbox → broker → devices → linkage → uplink → cloud commands
 *
 * The outbox comes first because the broker's PUBACK waits on it; the uplink comes last because nothing
 * must be lost if the cloud is unreachable at start (everything waits in the outbox).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HealthBoard, makePrivate, createLogger, systemClock, type Clock, type HealthReport, type Logger } from '@safe-community/runtime';
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
import { CameraManager, FileSnapshotStore } from './camera/index.js';
import { VideoAnalytics } from './video/video-analytics.js';
import { CareMonitor, consentFilter, loadResidents } from './care/index.js';
import { HealthReporter } from './health-report.js';
import { createPrivacyFilter, type PrivacyFilter } from '@safe-community/analytics';
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
  healthReport!: HealthReporter;
  /** Prometheus series served on the admin /metrics; the video pipeline reports through its video* functions. */
  metrics!: EdgeMetrics;
  /**
   * What /health reports: every started part registers here (up while started); parts with more to say
   * (broker, uplink, cameras) register their own check under their name.
   */
  readonly healthBoard = new HealthBoard();
  private readonly started: Part[] = [];
  private readonly unregister = new Map<string, () => void>();

  constructor(private readonly opts: EdgeAgentOptions) {
    this.config = opts.config;
    this.log = opts.logger ?? createLogger({ name: 'edge-agent', level: opts.config.logLevel });
  }

  async start(): Promise<void> {
    const { config: cfg } = this;
    const clock = this.opts.clock ?? systemClock;
    const dataDir = resolve(cfg.dataDir);
    await makePrivate(dataDir);
    const log = this.log.child({ edge: cfg.edge.id });
    // Read before the devices start: the residents' consent decides what their wearables may send.
    const residents = cfg.care.residentsFile ? await loadResidents(cfg.care.residentsFile) : null;

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
    this.devices = new DeviceGateway({
      site: cfg.edge.site,
      edge: cfg.edge.id,
      broker: this.broker,
      sink: this.outbox,
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
    let privacy: PrivacyFilter | null = null;
    let snapshots: FileSnapshotStore | null = null;
    if (cfg.cameras.length > 0) {
      // Every stored snapshot passes through the face blur first (DESIGN: faces are detected only to blur them).
      const filter = createPrivacyFilter(cfg.video.modelsDir ? { modelsDir: cfg.video.modelsDir } : {});
      privacy = filter;
      snapshots = new FileSnapshotStore({ dir: join(dataDir, 'snapshots'), redact: async (jpeg) => (await filter.snapshot(jpeg)).jpeg });
    }
    const onvifCameras = cfg.cameras.filter((c) => c.hostname);
    if (onvifCameras.length > 0 && snapshots) {
      this.cameras = new CameraManager({
        site: cfg.edge.site, edge: cfg.edge.id, snapshots, clock, log,
        cameras: onvifCameras.map((c) => ({
          id: c.id, hostname: c.hostname!, port: c.port, path: c.path, username: c.username, password: c.password,
          events: c.events, tags: { ...c.tags }, ...(c.profileToken ? { profileToken: c.profileToken } : {}),
        })),
      });
      this.events.add(this.cameras);
      this.cameras.onEvent((e) => void this.outbox.append({ type: 'event', data: e }).catch((err: unknown) => log.error({ err }, 'camera event not stored')));
    }
    const analysed = cfg.cameras.filter((c) => c.analytics);
    if (analysed.length > 0 && snapshots && privacy) {
      const manager = this.cameras;
      this.video = new VideoAnalytics({
        site: cfg.edge.site, edge: cfg.edge.id, model: cfg.video.model, hub: this.events, sink: this.outbox, snapshots, privacy, log,
        onFrame: (camera, result) => this.metrics.observeFrame(camera, result),
        onDropped: (camera, count) => this.metrics.videoDropped(camera, count),
        ...(cfg.video.modelsDir ? { modelsDir: cfg.video.modelsDir } : {}),
        cameras: analysed.map((c) => ({
          id: c.id, tags: { ...c.tags }, fps: c.analytics!.fps, motion: c.analytics!.motion, loop: c.loop,
          ...(c.analytics!.plates ? { plates: { ...c.analytics!.plates } } : {}),
          rules: { lines: c.analytics!.lines, zones: c.analytics!.zones, crowds: c.analytics!.crowds } as never,
          input: async () => c.stream ?? (await manager!.authenticatedStreamUri(c.id)),
        })),
      });
    }
    const cameraManager = this.cameras;
    const directory = new CompositeDirectory(this.devices, cfg.cameras.map((c) => ({ id: c.id, tags: { ...c.tags } })),
      (id) => (cameraManager && cfg.cameras.find((c) => c.id === id)?.hostname ? cameraManager.status(id).state === 'online' : this.video !== null));
    this.linkage = new LinkageEngine({
      events: this.events,
      devices: directory,
      commands: this.devices,
      ...(this.opts.cameras ?? this.cameras ? { cameras: (this.opts.cameras ?? this.cameras)! } : {}),
      sink: this.outbox,
      log,
      clock,
      stateFile: join(dataDir, 'linkage-holds.json'),
      ruleFiles: [...(cfg.linkage.builtinRules ? [BUILTIN_RULES_FILE] : []), ...cfg.linkage.ruleFiles],
      ...(cfg.linkage.timeZone ? { timeZone: cfg.linkage.timeZone } : {}),
      handledBy: { care: (device) => this.care?.enrolled(device) ?? false },
    });

    this.metrics = new EdgeMetrics({ edge: cfg.edge.id, site: cfg.edge.site });
    this.metrics.attach({ outbox: this.outbox, broker: this.broker, devices: this.devices, consent: this.devices });
    this.linkage.onExecution((report) => this.metrics.observeLinkage(report.execution));

    await this.startPart({ name: 'outbox', start: () => this.outbox.start(), stop: () => this.outbox.stop() });
    await this.startPart({ name: 'broker', start: () => this.broker.start(), stop: () => this.broker.stop() });
    await this.startPart({ name: 'devices', start: () => this.devices.start(), stop: () => this.devices.stop() });
    if (privacy) {
      const p = privacy;
      await this.startPart({ name: 'privacy', start: () => p.start(), stop: () => p.stop() });
    }
    if (this.cameras) {
      const c = this.cameras;
      await this.startPart({ name: 'cameras', start: () => c.start(), stop: () => c.stop() });
    }
    await this.startPart({ name: 'linkage', start: () => this.linkage.start(), stop: () => this.linkage.stop() });
    if (this.video) {
      const v = this.video;
      await this.startPart({ name: 'video', start: () => v.start(), stop: () => v.stop() });
    }
    if (residents) {
      // Elderly care works offline like the linkage: its alarms go through the same outbox.
      const care = new CareMonitor({
        site: cfg.edge.site, edge: cfg.edge.id, residents,
        events: this.devices, telemetry: this.devices, devices: this.devices, sink: this.outbox,
        stateFile: join(dataDir, 'care-state.json'), clock, logger: log,
      });
      this.care = care;
      this.metrics.attach({ care });
      await this.startPart({ name: 'care', start: () => care.start(), stop: () => care.stop() });
    }
    if (cfg.uplink.url) {
      const commands = new CloudCommands({ edge: cfg.edge.id, devices: this.devices, guard: this.linkage, sink: this.outbox, logger: log });
      const uplink = new Uplink({
        url: cfg.uplink.url,
        edge: cfg.edge.id,
        site: cfg.edge.site,
        source: this.outbox,
        ...(cfg.uplink.username ? { username: cfg.uplink.username } : {}),
        ...(cfg.uplink.password ? { password: cfg.uplink.password } : {}),
        maxBatchMessages: cfg.uplink.maxBatchMessages,
        window: cfg.uplink.window,
        ackTimeoutMs: cfg.uplink.ackTimeoutMs,
        clock,
        logger: log,
        onCommand: (cmd) => commands.run(cmd),
      });
      this.uplink = uplink;
      this.metrics.attach({ uplink });
      await this.startPart({ name: 'uplink', start: () => uplink.start(), stop: () => uplink.stop() });
      const watch = new UplinkStallWatch({
        site: cfg.edge.site, edge: cfg.edge.id, stallMs: cfg.uplink.stallAfterSec * 1000, checkMs: Math.min(5000, cfg.uplink.stallAfterSec * 250),
        source: () => uplink.metrics(), clock, log,
        raise: (alarm) => void this.outbox.append({ type: 'alarm', data: alarm }).catch((err: unknown) => log.error({ err }, 'uplink stall alarm not stored')),
      });
      await this.startPart({ name: 'uplink watch', start: () => watch.start(), stop: () => watch.stop() });
      this.healthBoard.register('uplink', () => watch.health());
      await this.startPart({ name: 'cloud commands', start: async () => {}, stop: () => commands.stop() });
    } else {
      log.warn('uplink.url is not set: events stay in the outbox until an uplink is configured');
    }
    this.healthReport = new HealthReporter({
      site: cfg.edge.site, edge: cfg.edge.id, sink: this.outbox, everyMs: cfg.healthReportSec * 1000, log,
      sources: { outbox: () => this.outbox.stats(), uplinkLagMs: () => this.uplink?.metrics().lagMs ?? null },
    });
    const reporter = this.healthReport;
    await this.startPart({ name: 'health report', start: () => reporter.start(), stop: () => reporter.stop() });
    if (cfg.admin.enabled) {
      const admin = new AdminServer({
        host: cfg.admin.host,
        port: cfg.admin.port,
        sources: {
          devices: this.devices,
          drill: (building, zone) => this.linkage.drill(building, zone ? { zone } : {}),
          health: () => this.health(),
          metrics: () => this.metrics.render(),
        },
      });
      this.admin = admin;
      await this.startPart({ name: 'admin', start: () => admin.start(), stop: () => admin.stop() });
    }
    log.info({ port: this.broker.port, devices: this.devices.list().length, admin: this.admin?.port }, 'edge agent started');
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

  private async startPart(part: Part): Promise<void> {
    try {
      await part.start();
    } catch (err) {
      this.log.error({ err, part: part.name }, 'part failed to start; stopping what started');
      await this.stop();
      throw err;
    }
    this.started.push(part);
    this.unregister.set(part.name, this.healthBoard.register(part.name, part.name === 'broker' ? () => this.broker.health() : () => ({ state: 'up' })));
  }
}
