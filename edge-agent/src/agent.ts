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
import { createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { loadProfiles } from '@safe-community/firmware-configs';
import { EdgeBroker } from './broker/index.js';
import { DeviceGateway } from './devices/index.js';
import { LinkageEngine, BUILTIN_RULES_FILE } from './linkage/index.js';
import { Outbox } from './outbox/index.js';
import { Uplink } from './uplink/index.js';
import { CloudCommands } from './cloud-commands.js';
import { AdminServer } from './admin.js';
import { mergeDevices, readRegistry } from './registry.js';
import type { EdgeConfig } from './config.js';
import type { CameraPort } from './ports.js';

export interface EdgeAgentOptions {
  config: EdgeConfig;
  logger?: Logger;
  clock?: Clock;
  /** Camera actions for the linkage engine (ONVIF); without it camera actions are recorded as failed. */
  cameras?: CameraPort;
}

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
  private readonly started: Part[] = [];

  constructor(private readonly opts: EdgeAgentOptions) {
    this.config = opts.config;
    this.log = opts.logger ?? createLogger({ name: 'edge-agent', level: opts.config.logLevel });
  }

  async start(): Promise<void> {
    const { config: cfg } = this;
    const clock = this.opts.clock ?? systemClock;
    const dataDir = resolve(cfg.dataDir);
    await mkdir(dataDir, { recursive: true });
    const log = this.log.child({ edge: cfg.edge.id });

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
      logger: log,
      clock,
    });
    this.devices = new DeviceGateway({
      site: cfg.edge.site,
      edge: cfg.edge.id,
      broker: this.broker,
      sink: this.outbox,
      devices: mergeDevices(cfg.devices, await readRegistry(dataDir)),
      profiles: await loadProfiles(),
      logger: log,
      clock,
    });
    this.broker.use(this.devices);
    this.linkage = new LinkageEngine({
      events: this.devices,
      devices: this.devices,
      commands: this.devices,
      ...(this.opts.cameras ? { cameras: this.opts.cameras } : {}),
      sink: this.outbox,
      log,
      clock,
      stateFile: join(dataDir, 'linkage-holds.json'),
      ruleFiles: [...(cfg.linkage.builtinRules ? [BUILTIN_RULES_FILE] : []), ...cfg.linkage.ruleFiles],
      ...(cfg.linkage.timeZone ? { timeZone: cfg.linkage.timeZone } : {}),
    });

    await this.startPart({ name: 'outbox', start: () => this.outbox.start(), stop: () => this.outbox.stop() });
    await this.startPart({ name: 'broker', start: () => this.broker.start(), stop: () => this.broker.stop() });
    await this.startPart({ name: 'devices', start: () => this.devices.start(), stop: () => this.devices.stop() });
    await this.startPart({ name: 'linkage', start: () => this.linkage.start(), stop: () => this.linkage.stop() });
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
      await this.startPart({ name: 'uplink', start: () => uplink.start(), stop: () => uplink.stop() });
      await this.startPart({ name: 'cloud commands', start: async () => {}, stop: () => commands.stop() });
    } else {
      log.warn('uplink.url is not set: events stay in the outbox until an uplink is configured');
    }
    if (cfg.admin.enabled) {
      const admin = new AdminServer({
        host: cfg.admin.host,
        port: cfg.admin.port,
        sources: {
          devices: this.devices,
          drill: (building, zone) => this.linkage.drill(building, zone ? { zone } : {}),
          health: () => this.health(),
        },
      });
      this.admin = admin;
      await this.startPart({ name: 'admin', start: () => admin.start(), stop: () => admin.stop() });
    }
    log.info({ port: this.broker.port, devices: this.devices.list().length, admin: this.admin?.port }, 'edge agent started');
  }

  /** Up when every started part is; the uplink counts as up while the outbox holds what it cannot send. */
  health(): { ok: boolean; parts: Record<string, string> } {
    const parts: Record<string, string> = {};
    for (const p of this.started) parts[p.name] = 'up';
    if (this.uplink) parts.uplink = this.uplink.metrics().connected ? 'up' : 'reconnecting';
    const ok = ['outbox', 'broker', 'devices', 'linkage'].every((n) => parts[n] === 'up');
    return { ok, parts };
  }

  /** Stops what started, in reverse order; keeps going past a part that fails to stop. */
  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const part = this.started.pop()!;
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
  }
}
