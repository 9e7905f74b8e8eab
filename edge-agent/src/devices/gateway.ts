/**
 * DeviceGateway: the devices side of the agent. On top of the EdgeBroker it decodes every device message
 * with the device's profile, hands canonical messages to the UplinkSink (awaited, so the broker's PUBACK
 * follows durability), keeps each device's last known state, and sends canonical commands in the vendor's
 * dialect. It implements DeviceDirectory, CommandPort and EventSource from ports.ts.
 */
import { performance } from 'node:perf_hooks';
import { parseDeviceTopic, type Command, type Event, type DeviceKind, type Tags, type Telemetry } from '@safe-community/contracts';
import type { Profile } from '@safe-community/firmware-configs';
import { CodedError, createLogger, errorCode, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { CommandPort, DeviceDirectory, DeviceInfo, EventSource, ReadBack, UplinkSink } from '../ports.js';
import { PublishRefused, type DevicePublishHandler, type EdgeBroker } from '../broker/index.js';
import { ProfileAdapter } from './profile-adapter.js';
import { DecodeError } from './codecs.js';

export interface DeviceGatewayOptions {
  site: string;
  edge: string;
  broker: EdgeBroker;
  sink: UplinkSink;
  /** The devices this edge serves (config); each needs a credential in the broker's store to connect. */
  devices: readonly DeviceInfo[];
  /** Profiles by id, from loadProfiles() in @safe-community/firmware-configs. */
  profiles: ReadonlyMap<string, Profile>;
  logger?: Logger;
  clock?: Clock;
  /**
   * Telemetry this returns false for never leaves the device broker: not handed to listeners, not put in
   * the outbox (e.g. a resident's position when they did not consent to location). Default: all admitted.
   */
  admitTelemetry?: (point: Telemetry) => boolean;
}

interface Entry {
  info: DeviceInfo;
  adapter: ProfileAdapter;
  state: Record<string, unknown>;
}

export class DeviceGateway implements DeviceDirectory, CommandPort, EventSource, DevicePublishHandler {
  private readonly devices = new Map<string, Entry>();
  /** Telemetry points `admitTelemetry` kept at the edge. */
  withheld = 0;
  private readonly eventListeners = new Set<(e: Event) => void>();
  private readonly readBackListeners = new Set<(rb: ReadBack) => void>();
  private readonly telemetryListeners = new Set<(t: Telemetry) => void>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private offStatus: (() => void) | null = null;
  private built = false;

  constructor(private readonly opts: DeviceGatewayOptions) {
    this.log = (opts.logger ?? createLogger({ name: 'devices' })).child({ part: 'devices' });
    this.clock = opts.clock ?? systemClock;
  }

  /**
   * Checks every device against its profile (unknown profile or wrong kind stops the start), attaches to
   * the broker and records the status of devices already connected. Works before or after broker.start().
   */
  async start(): Promise<void> {
    this.ensureDevices();
    this.opts.broker.use(this);
    this.offStatus = this.opts.broker.onDeviceStatus((id, online) => this.statusChanged(id, online));
    // Devices that connected between broker.start() and now: their online event went unheard.
    for (const id of this.devices.keys()) if (this.opts.broker.isOnline(id)) this.statusChanged(id, true);
  }

  /**
   * Builds the device table once, on first need: the broker may call in (a device connecting right after
   * broker.start()) before start() ran, and such a device must still get its command topic and have its
   * messages decoded rather than refused.
   */
  private ensureDevices(): Map<string, Entry> {
    if (this.built) return this.devices;
    const adapters = new Map<string, ProfileAdapter>();
    const table = new Map<string, Entry>();
    for (const info of this.opts.devices) {
      const profile = this.opts.profiles.get(info.profile);
      if (!profile) throw new CodedError('ERR_UNKNOWN_PROFILE', `device ${info.id}: no profile "${info.profile}"`);
      if (profile.kind !== info.kind) throw new CodedError('ERR_PROFILE_KIND', `device ${info.id} is a ${info.kind} but profile ${profile.id} is for ${profile.kind}`);
      if (table.has(info.id)) throw new CodedError('ERR_DUPLICATE_DEVICE', `device ${info.id} is configured twice`);
      let adapter = adapters.get(profile.id);
      if (!adapter) {
        adapter = new ProfileAdapter(profile, { site: this.opts.site, edge: this.opts.edge, clock: this.clock });
        adapters.set(profile.id, adapter);
      }
      table.set(info.id, { info: { ...info, tags: { ...info.tags } }, adapter, state: {} });
    }
    for (const [id, e] of table) this.devices.set(id, e);
    this.built = true;
    return this.devices;
  }

  async stop(): Promise<void> {
    this.offStatus?.();
    this.offStatus = null;
  }

  // ---- DeviceDirectory ----

  list(filter?: { kind?: DeviceKind; tags?: Partial<Tags> }): DeviceInfo[] {
    const out: DeviceInfo[] = [];
    for (const { info } of this.ensureDevices().values()) {
      if (filter?.kind && info.kind !== filter.kind) continue;
      if (filter?.tags && !Object.entries(filter.tags).every(([k, v]) => v === undefined || info.tags[k] === v)) continue;
      out.push(info);
    }
    return out;
  }

  get(id: string): DeviceInfo | undefined {
    return this.ensureDevices().get(id)?.info;
  }

  online(id: string): boolean {
    return this.opts.broker.isOnline(id);
  }

  state(id: string): Readonly<Record<string, unknown>> {
    return this.ensureDevices().get(id)?.state ?? {};
  }

  // ---- CommandPort ----

  async send(cmd: Command): Promise<void> {
    const entry = this.ensureDevices().get(cmd.device);
    if (!entry) throw new CodedError('ERR_UNKNOWN_DEVICE', `no device ${cmd.device}`);
    const { topic, payload } = entry.adapter.encode(entry.info, cmd);
    await this.opts.broker.publish(topic, payload, { qos: 1 });
  }

  onReadBack(listener: (rb: ReadBack) => void): () => void {
    this.readBackListeners.add(listener);
    return () => this.readBackListeners.delete(listener);
  }

  // ---- EventSource ----

  onEvent(listener: (event: Event) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Canonical telemetry points as they are decoded (the elderly-care monitor watches vitals and positions). */
  onTelemetry(listener: (point: Telemetry) => void): () => void {
    this.telemetryListeners.add(listener);
    return () => this.telemetryListeners.delete(listener);
  }

  // ---- DevicePublishHandler (called by the broker before PUBACK) ----

  commandTopics(deviceId: string): string[] {
    const suffix = this.ensureDevices().get(deviceId)?.adapter.commandSuffix;
    return suffix ? [`devices/${deviceId}/${suffix}`] : [];
  }

  async onDevicePublish(deviceId: string, topic: string, payload: Buffer): Promise<void> {
    const entry = this.ensureDevices().get(deviceId);
    if (!entry) throw new PublishRefused('ERR_UNKNOWN_DEVICE', `device ${deviceId} has credentials but no configuration`);
    const parsed = parseDeviceTopic(topic);
    if (!parsed) throw new PublishRefused('ERR_DECODE_TOPIC', `not a device topic: ${topic.slice(0, 128)}`);
    let decoded;
    try {
      decoded = entry.adapter.decode(entry.info, parsed.suffix, payload);
    } catch (err) {
      if (err instanceof DecodeError) throw new PublishRefused(err.code, err.message, { cause: err });
      // Anything else is a fault in the adapter, not in the input: still refused, so one odd payload
      // cannot make the device resend it forever, but counted under its own code.
      this.log.error({ device: deviceId, err }, 'adapter fault');
      throw new PublishRefused('ERR_ADAPTER_FAULT', `adapter fault: ${(err as Error).message}`, { cause: err });
    }
    Object.assign(entry.state, decoded.state);
    const admit = this.opts.admitTelemetry;
    const messages = admit ? decoded.messages.filter((m) => m.type !== 'telemetry' || admit(m.data)) : decoded.messages;
    this.withheld += decoded.messages.length - messages.length;
    const at = performance.now();
    // Linkage hears events and read-backs at once: life-safety actions must not wait for the outbox's
    // fsync. The PUBACK still waits for it below, so a lost record is re-sent by the device.
    for (const rb of decoded.readBacks) this.emit(this.readBackListeners, { ...rb, at });
    for (const m of messages) {
      if (m.type === 'event') this.emit(this.eventListeners, m.data);
      else if (m.type === 'telemetry') this.emit(this.telemetryListeners, m.data);
    }
    // All appends are called now, in order, so the outbox numbers them in order and can commit a burst at once.
    await Promise.all(messages.map((m) => this.opts.sink.append(m)));
  }

  private statusChanged(id: string, online: boolean): void {
    const entry = this.devices.get(id);
    if (!entry) return;
    const data = { site: this.opts.site, edge: this.opts.edge, device: id, kind: entry.info.kind, online, at: new Date(this.clock.now()).toISOString() };
    this.opts.sink.append({ type: 'status', data }).catch((err: unknown) =>
      this.log.warn({ device: id, code: errorCode(err), err }, 'could not record device status'));
  }

  private emit<T>(listeners: Set<(v: T) => void>, value: T): void {
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        this.log.error({ err }, 'listener threw');
      }
    }
  }
}
