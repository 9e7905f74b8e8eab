/**
 * Common part of every simulated device: an MQTT.js client that connects with the device's own
 * credentials (client id = device id), subscribes to its command topic, answers commands with its
 * dialect's read-back, and injects faults on request: slow ack, no ack, malformed payloads, flapping.
 * Each kind/dialect writes its vendor payloads by hand, like firmware would; the simulators never use
 * the edge's profiles, so a test that passes proves the profile matches the wire format.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { Backoff, CodedError } from '@safe-community/runtime';

export interface FaultModes {
  /** Delay every command acknowledgement by this many ms. */
  ackDelayMs?: number;
  /** Act on commands but never acknowledge them. */
  noAck?: boolean;
  /** Ignore commands entirely (no action, no ack). */
  ignoreCommands?: boolean;
  /** Share (0..1) of outgoing messages replaced by garbage, from a seeded sequence. */
  malformedRate?: number;
}

export interface SimulatedDeviceOptions {
  /** mqtt://127.0.0.1:PORT of the edge broker. */
  url: string;
  id: string;
  password: string;
  faults?: FaultModes;
  /** Seed for the malformed-payload sequence. */
  seed?: number;
  /** Keep the session across reconnects so commands sent while offline are delivered (MQTT clean=false). */
  persistentSession?: boolean;
}

/** A parsed command as the device sees it: an id to echo and a vendor operation code. */
export interface DeviceCommand {
  id: string;
  op: string;
}

/** Small deterministic PRNG (mulberry32) so fault runs repeat exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export abstract class SimulatedDevice {
  faults: FaultModes;
  /** Commands received, in order, with their vendor op codes. */
  readonly received: DeviceCommand[] = [];
  /** Count of garbage payloads sent in place of real ones. */
  malformedSent = 0;
  protected client: MqttClient | null = null;
  private stopped = true;
  private readonly random: () => number;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 2000, jitter: 0.3 });
  private pendingAcks = new Set<NodeJS.Timeout>();
  private flapDownMs: number | null = null;

  constructor(protected readonly opts: SimulatedDeviceOptions) {
    this.faults = { ...opts.faults };
    this.random = prng(opts.seed ?? 1);
  }

  get id(): string {
    return this.opts.id;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Topic suffix for commands, or null for a device that takes none. */
  protected abstract readonly commandSuffix: string | null;
  /** Parses a vendor command payload; null when the device does not understand it. */
  protected abstract parseCommand(payload: Buffer): DeviceCommand | null;
  /** Applies the command to the simulated hardware and returns the ack to publish (suffix + payload). */
  protected abstract applyCommand(cmd: DeviceCommand): { suffix: string; payload: string } | null;

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.connect();
    } catch (err) {
      // A refused first connection is a configuration error: report it instead of retrying forever.
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.pendingAcks) clearTimeout(t);
    this.pendingAcks.clear();
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync(true);
  }

  /** Drops the connection `cycles` times: down for downMs, up for upMs (the flapping fault). */
  async flap(opts: { cycles: number; downMs: number; upMs: number }): Promise<void> {
    for (let i = 0; i < opts.cycles && !this.stopped; i++) {
      const c = this.client;
      if (!c) return;
      const back = new Promise<void>((resolve) => c.once('connect', () => resolve()));
      this.flapDownMs = opts.downMs;
      // A hard drop without DISCONNECT, as a power or radio loss looks to the broker.
      c.stream.destroy();
      await back;
      this.flapDownMs = null;
      await new Promise((r) => setTimeout(r, opts.upMs));
    }
  }

  /** Publishes one vendor payload (QoS 1); resolves on PUBACK. May be replaced by garbage under malformedRate. */
  protected async send(suffix: string, payload: string): Promise<void> {
    const c = this.client;
    if (!c) throw new CodedError('ERR_SIM_OFFLINE', `${this.id} is not connected`);
    let body = payload;
    if (this.faults.malformedRate && this.random() < this.faults.malformedRate) {
      body = this.garbage(payload);
      this.malformedSent++;
    }
    await c.publishAsync(`devices/${this.id}/${suffix}`, body, { qos: 1 });
  }

  /** Sends a deliberately broken payload on a topic, regardless of malformedRate. */
  async sendMalformed(suffix: string, payload?: string): Promise<void> {
    const c = this.client;
    if (!c) throw new CodedError('ERR_SIM_OFFLINE', `${this.id} is not connected`);
    this.malformedSent++;
    await c.publishAsync(`devices/${this.id}/${suffix}`, payload ?? this.garbage('{"x":1}'), { qos: 1 });
  }

  private garbage(valid: string): string {
    const r = this.random();
    if (r < 0.33) return valid.slice(0, Math.max(1, Math.floor(valid.length / 2)));
    if (r < 0.66) return `\u0000${valid.split('').reverse().join('')}`;
    return '#garbage#';
  }

  /**
   * One MQTT.js client for the device's life: its own reconnect keeps unacknowledged QoS 1 messages and
   * resends them, as device firmware does. The retry interval comes from a Backoff (reset on every
   * connect) rather than a fixed period.
   */
  private connect(): Promise<void> {
    const c = mqtt.connect(this.opts.url, {
      clientId: this.opts.id, username: this.opts.id, password: this.opts.password,
      clean: !this.opts.persistentSession, reconnectPeriod: this.backoff.next(), connectTimeout: 5000, protocolVersion: 4,
      // Resubscribe is the session's job with a persistent session; with a clean one MQTT.js redoes it.
      resubscribe: true,
    });
    this.client = c;
    // Small request/acknowledge writes: without this, Nagle + delayed ACK add ~40 ms to every read-back.
    c.on('connect', () => (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    c.on('message', (_topic, payload) => this.onCommand(payload));
    c.on('connect', () => this.backoff.reset());
    // MQTT.js emits 'offline' just before it arms its retry timer, which then keeps this period for the
    // whole outage; so each outage waits longer than the last until a connection succeeds.
    c.on('offline', () => {
      c.options.reconnectPeriod = this.flapDownMs ?? this.backoff.next();
    });
    return new Promise<void>((resolve, reject) => {
      c.once('connect', () => {
        if (!this.commandSuffix) return resolve();
        c.subscribeAsync(`devices/${this.id}/${this.commandSuffix}`, { qos: 1 }).then(() => resolve(), reject);
      });
      c.once('error', (err) => reject(new CodedError('ERR_SIM_CONNECT', `${this.id} could not connect: ${err.message}`, { cause: err })));
    });
  }

  private onCommand(payload: Buffer): void {
    if (this.faults.ignoreCommands) return;
    const cmd = this.parseCommand(payload);
    if (!cmd) return;
    this.received.push(cmd);
    const ack = this.applyCommand(cmd);
    if (!ack || this.faults.noAck) return;
    const publish = (): void => {
      this.client?.publish(`devices/${this.id}/${ack.suffix}`, ack.payload, { qos: 1 });
    };
    const delay = this.faults.ackDelayMs ?? 0;
    if (delay <= 0) return publish();
    const t = setTimeout(() => {
      this.pendingAcks.delete(t);
      publish();
    }, delay);
    this.pendingAcks.add(t);
  }
}

/** A device that speaks one of its kind's vendor dialects; the dialect decides the topic its commands come on. */
export abstract class DialectDevice<D extends string> extends SimulatedDevice {
  readonly dialect: D;
  protected readonly commandSuffix: string;

  constructor(opts: SimulatedDeviceOptions & { dialect: D }, commandSuffixes: Readonly<Record<D, string>>) {
    super(opts);
    this.dialect = opts.dialect;
    this.commandSuffix = commandSuffixes[opts.dialect];
  }
}

/**
 * A JSON command whose id and operation sit under the vendor's own field names; null for anything else
 * (real controllers drop what they cannot parse rather than answer it).
 */
export function jsonCommand(text: string, idField: string, opField: string): DeviceCommand | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const id = v?.[idField];
  const op = v?.[opField];
  return typeof id === 'string' && typeof op === 'string' ? { id, op } : null;
}
