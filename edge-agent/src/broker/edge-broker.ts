/**
 * The edge broker: Aedes in process, with per-device authentication, a per-device topic ACL, retained
 * online/offline status, payload and rate limits, and one hook — `onDevicePublish` — that is awaited
 * before a device's PUBLISH is acknowledged. Aedes runs `authorizePublish` before it writes the PUBACK
 * (lib/handlers/publish.js: authorizePublish → enqueuePublish), so holding that callback until the
 * hook resolves means a QoS 1 PUBACK proves the message is durable in the outbox.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { deviceStatusTopic, parseDeviceTopic, DEVICE_STATUS_SUFFIX } from '@safe-community/contracts';
import { CodedError, KeyedBuckets, errorCode, sameSecret, systemClock, createLogger, type Clock, type Logger, type PartHealth } from '@safe-community/runtime';
import { CredentialStore } from './credentials.js';
import { PublishRefused, type BrokerStats, type DevicePublishHandler, type EdgeBrokerOptions } from './types.js';
import { DeadLetterLog } from './dead-letter.js';
import { FilePersistence } from './file-persistence.js';
import { guardPacketSize } from './packet-guard.js';
import { AuthGate } from './auth-gate.js';
import { authError, loginDevice, CONNACK_BAD_CREDENTIALS } from './login.js';
import { DevicePresence, type PresenceListener } from './presence.js';

type Identity = { kind: 'device'; id: string } | { kind: 'agent' };


export const AGENT_USERNAME = '$agent';
const REFUSED_ROOT = '$refused';
/** Devices send small JSON; a few hundred KiB leaves room for any payload limit one would configure. */
const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;
/** Topic, packet id and header bytes on top of the largest payload. */
const PACKET_OVERHEAD_BYTES = 4096;

export class EdgeBroker {
  readonly credentials: CredentialStore;
  readonly deadLetters: DeadLetterLog;
  private aedes: Aedes | null = null;
  private servers: Server[] = [];
  private handler: DevicePublishHandler | null = null;
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly chains = new WeakMap<Client, Promise<void>>();
  /**
   * Messages per device: `perSecond` sustained, `burst` at once; null when unlimited. A fire panel reporting a
   * whole loop going into alarm sends a burst, so the burst is deliberately generous: the limit stops a
   * runaway device from starving the others, it does not shape normal traffic.
   */
  private readonly deviceRate: KeyedBuckets | null;
  private readonly presence: DevicePresence<Client>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private agentPassword = '';
  private filePersistence: FilePersistence | null = null;
  private accepted = 0;
  private hookFailures = 0;
  private boundPort = 0;
  private boundTlsPort = 0;
  private readonly gate: AuthGate;
  private readonly maxPacketBytes: number;
  private packetsRefused = 0;

  constructor(private readonly opts: EdgeBrokerOptions) {
    this.credentials = opts.credentials ?? new CredentialStore(opts.dataDir);
    this.clock = opts.clock ?? systemClock;
    const auth = opts.auth ?? {};
    this.deviceRate = opts.rateLimit === false ? null : new KeyedBuckets(opts.rateLimit ?? { perSecond: 50, burst: 200 }, () => this.clock.now());
    this.gate = new AuthGate({
      concurrency: auth.concurrency ?? 2,
      maxQueue: auth.maxQueue ?? 256,
      perSource: auth.perSource ?? { perSecond: 20, burst: 100 },
      now: () => this.clock.now(),
      setTimer: (fn, ms) => this.clock.setTimeout(fn, ms),
    });
    // Never below the payload limit: a packet the payload check would accept is never cut off earlier.
    this.maxPacketBytes = Math.max(opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES, (opts.maxPayloadBytes ?? 64 * 1024) + PACKET_OVERHEAD_BYTES);
    this.deadLetters = new DeadLetterLog(opts.dataDir, () => this.clock.now(), opts.deadLetterRotation);
    this.log = (opts.logger ?? createLogger({ name: 'edge-broker' })).child({ part: 'broker' });
    this.presence = new DevicePresence<Client>(this.log);
    // first listener: the retained status topic is published before anyone else hears of the change
    this.presence.onChange((deviceId, online) => this.publishStatus(deviceId, online));
  }

  /** Registers the device message handler (the DeviceGateway); call before start(). */
  use(handler: DevicePublishHandler): void {
    this.handler = handler;
  }

  /** The bound TCP port (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  get tlsPort(): number {
    return this.boundTlsPort;
  }

  /** Credentials for the agent's own MQTT client (privileged, any topic); new on every start. */
  get agentCredentials(): { username: string; password: string; clientIdPrefix: string } {
    return { username: AGENT_USERNAME, password: this.agentPassword, clientIdPrefix: AGENT_USERNAME };
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // Leave nothing half-open (listener, files) when one step fails, e.g. the port is taken.
      await this.stop();
      throw err;
    }
  }

  private async open(): Promise<void> {
    await this.credentials.load();
    await this.deadLetters.start();
    this.agentPassword = randomBytes(24).toString('base64url');
    const p = this.opts.persistence ?? 'file';
    this.filePersistence = p === 'file' ? new FilePersistence(this.opts.dataDir, this.log) : null;
    const aedes = await Aedes.createBroker({
      persistence: p === 'file' ? this.filePersistence : p === 'memory' ? undefined : p,
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: Error & { returnCode: number }) => done(err, false),
        );
      },
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
    });
    this.aedes = aedes;
    aedes.on('clientReady', (client) => this.onClientReady(client));
    aedes.on('clientDisconnect', (client) => this.onClientGone(client));
    aedes.on('clientError', (client, err) => this.log.debug({ client: client?.id, err: err.message }, 'client error'));
    aedes.on('connectionError', (client, err) => this.log.debug({ err: err.message }, 'connection error'));

    // After a restart no device is connected yet, whatever the persisted retained status says.
    // Published together so the file persistence coalesces them into a few snapshot writes.
    await Promise.all(this.credentials.list().map((id) => this.publish(deviceStatusTopic(id), 'offline', { retain: true, qos: 1 })));

    // Commands and PUBACKs are small writes that must leave at once (life-safety latency): no Nagle.
    const tcp = createServer({ noDelay: true }, (socket) => this.accept(aedes, socket));
    this.boundPort = await listen(tcp, this.opts.port ?? 1883, this.opts.host ?? '127.0.0.1');
    this.servers.push(tcp);
    if (this.opts.tls) {
      const [key, cert] = await Promise.all([readFile(this.opts.tls.keyPath), readFile(this.opts.tls.certPath)]);
      const tls = createTlsServer({ key, cert, noDelay: true }, (socket) => this.accept(aedes, socket));
      this.boundTlsPort = await listen(tls, this.opts.tls.port ?? 8883, this.opts.tls.host ?? this.opts.host ?? '127.0.0.1');
      this.servers.push(tls);
    }
    this.log.info({ port: this.boundPort, tlsPort: this.boundTlsPort || undefined }, 'edge broker listening');
  }

  /** Hands a connection to Aedes, with the packet size guard watching what Aedes reads. */
  private accept(aedes: Aedes, socket: Socket): void {
    aedes.handle(socket);
    // After handle(): Aedes's 'readable' listener must come first, so this 'data' listener does not put the
    // socket into flowing mode and sees each chunk as Aedes reads it (see packet-guard.ts).
    guardPacketSize(socket, this.maxPacketBytes, (r) => {
      this.packetsRefused++;
      this.deadLetters.record({ reason: r.reason, detail: `${r.detail}; connection closed`, clientId: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` });
    });
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    this.aedes = null;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers = [];
    this.presence.clear();
    await this.deadLetters.stop();
    const fp = this.filePersistence;
    this.filePersistence = null;
    // Last: snapshot writes still in flight finish before the data dir is released.
    await fp?.close();
  }

  /** The agent's in-process publish (commands to devices): no network, no ACL. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new CodedError('ERR_BROKER_STOPPED', 'edge broker is not running'));
    const packet = {
      cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false,
    } as PublishPacket;
    return new Promise((resolve, reject) => {
      aedes.publish(packet, (err) => (err ? reject(new CodedError('ERR_BROKER_PUBLISH', `publish to ${topic} failed`, { cause: err })) : resolve()));
    });
  }

  /** The agent's in-process subscription; resolves to an unsubscribe function. */
  async subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    const aedes = this.aedes;
    if (!aedes) throw new CodedError('ERR_BROKER_STOPPED', 'edge broker is not running');
    // Like a network subscriber: a filter starting with a wildcard never matches `$` topics (MQTT-4.7.2-1).
    const skipDollar = filter.startsWith('#') || filter.startsWith('+');
    const deliver = (packet: PublishPacket, cb: () => void): void => {
      if (skipDollar && packet.topic.startsWith('$')) return cb();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      try {
        onMessage(packet.topic, payload);
      } catch (err) {
        this.log.error({ err, topic: packet.topic }, 'agent subscriber threw');
      }
      cb();
    };
    await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, () => resolve()));
    return () => new Promise<void>((resolve) => (this.aedes ? this.aedes.unsubscribe(filter, deliver, () => resolve()) : resolve()));
  }

  onDeviceStatus(listener: PresenceListener): () => void {
    return this.presence.onChange(listener);
  }

  isOnline(deviceId: string): boolean {
    return this.presence.isOnline(deviceId);
  }

  /**
   * Down when not listening; degraded while the pre-authentication hash queue is nearly full, or while its
   * state file cannot be written (a restart would lose retained messages and queued commands).
   */
  health(): PartHealth {
    if (!this.aedes) return { state: 'down', reason: 'broker not running' };
    const unsaved = this.filePersistence?.lastWriteError;
    if (unsaved) return { state: 'degraded', reason: `broker state not saved: ${unsaved}` };
    const max = this.opts.auth?.maxQueue ?? 256;
    if (this.gate.queued >= max * 0.8) return { state: 'degraded', reason: `${this.gate.queued} connections waiting for authentication (max ${max})` };
    return { state: 'up' };
  }

  stats(): BrokerStats {
    return {
      connectedDevices: this.presence.size, accepted: this.accepted, refused: this.deadLetters.counters(), hookFailures: this.hookFailures,
      stateWriteFailures: this.filePersistence?.writeFailures ?? 0,
      auth: { ...this.gate.counts, queued: this.gate.queued, packetsRefused: this.packetsRefused },
    };
  }

  // ---- Aedes hooks ----

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    if (username === AGENT_USERNAME) {
      const expected = Buffer.from(this.agentPassword);
      const ok = expected.length > 0 && password !== undefined && sameSecret(password, expected);
      if (ok && client.id.startsWith(AGENT_USERNAME)) {
        this.identities.set(client, { kind: 'agent' });
        return;
      }
      this.deadLetters.record({ reason: 'ERR_AUTH', detail: 'agent credentials refused', clientId: client.id });
      throw authError('bad user name or password', CONNACK_BAD_CREDENTIALS);
    }
    const id = await loginDevice(client, username, password, { gate: this.gate, credentials: this.credentials, deadLetters: this.deadLetters, priority: this.opts.authPriority });
    this.identities.set(client, { kind: 'device', id });
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const who = this.identities.get(client);
    if (who?.kind === 'agent') return sub;
    if (who?.kind === 'device' && this.allowedFilters(who.id).includes(sub.topic)) return sub;
    this.deadLetters.record({
      reason: 'ERR_ACL_SUBSCRIBE', detail: `subscription to "${sub.topic}" refused`, clientId: client.id,
      ...(who?.kind === 'device' ? { device: who.id } : {}), topic: sub.topic,
    });
    // A null subscription makes Aedes answer SUBACK 0x80 (MQTT-3.9.3: failure) without dropping the connection.
    return null;
  }

  private allowedFilters(deviceId: string): string[] {
    if (!this.handler) return [`devices/${deviceId}/cmd`];
    try {
      return this.handler.commandTopics(deviceId);
    } catch (err) {
      // This runs inside Aedes's packet handling: a throw here would take the broker down.
      this.log.error({ device: deviceId, err }, 'commandTopics failed; subscription refused');
      return [];
    }
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    if (packet.topic.startsWith('$')) {
      // Reserved for the broker (MQTT-4.7.2); a device writing there is misconfigured or probing: closed,
      // and recorded like any other refusal (issue 13: these were dropped without a trace).
      const who = client ? this.identities.get(client) : undefined;
      this.deadLetters.record({
        reason: 'ERR_RESERVED_TOPIC', detail: `publish to reserved topic ${packet.topic.split('/')[0]}`, topic: packet.topic,
        ...(client ? { clientId: client.id } : {}), ...(who?.kind === 'device' ? { device: who.id } : {}),
        payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      });
      return done(new CodedError('ERR_RESERVED_TOPIC', `${packet.topic.split('/')[0]} topics are reserved`));
    }
    // client is null only for a will of a client from a previous broker run; only its own status is let through.
    if (client === null) return done(parseDeviceTopic(packet.topic)?.suffix === DEVICE_STATUS_SUFFIX ? null : new Error('orphan will refused'));
    const who = this.identities.get(client);
    if (who?.kind === 'agent') return done(null);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const parsed = parseDeviceTopic(packet.topic);
    if (!who || !parsed || parsed.device !== who.id || parsed.suffix === DEVICE_STATUS_SUFFIX) {
      this.deadLetters.record({
        reason: 'ERR_ACL_PUBLISH', detail: 'publish outside the device\'s own topics', clientId: client.id,
        ...(who ? { device: who.id } : {}), topic: packet.topic, payload,
      });
      // MQTT-3.3.5-2: an unauthorised PUBLISH is either acknowledged or the connection closed; an ACL
      // breach means a misconfigured or hostile device, so it is closed.
      return done(new CodedError('ERR_ACL_PUBLISH', `${client.id} may not publish to ${packet.topic}`));
    }
    const deviceId = who.id;
    const maxBytes = this.opts.maxPayloadBytes ?? 64 * 1024;
    if (payload.length > maxBytes) return this.refuse(packet, deviceId, payload, 'ERR_PAYLOAD_TOO_LARGE', `${payload.length} bytes > ${maxBytes}`, done);
    if (this.deviceRate && !this.opts.rateLimitExempt?.(deviceId) && !this.deviceRate.take(deviceId)) return this.refuse(packet, deviceId, payload, 'ERR_RATE_LIMITED', 'over the per-device message rate', done);

    // The hook starts at once, so a burst of messages reaches the outbox together (one group commit, not
    // one fsync each) and in arrival order, since Aedes dispatches a socket read's packets in order. The
    // PUBACKs are released in arrival order too, by chaining only the completions per client.
    const outcome = this.runHook(deviceId, packet, payload);
    const prev = this.chains.get(client) ?? Promise.resolve();
    const next = prev
      .then(() => outcome)
      .then((failure) => this.finish(deviceId, packet, payload, failure, done))
      .catch((err: unknown) => this.log.error({ device: deviceId, err }, 'publish completion failed'));
    this.chains.set(client, next);
  }

  /** Runs the hook with a time limit; resolves to null on success, or the failure (never rejects). */
  private async runHook(deviceId: string, packet: PublishPacket, payload: Buffer): Promise<unknown> {
    if (!this.handler) return null;
    let timer: unknown;
    const timeoutMs = this.opts.hookTimeoutMs ?? 10_000;
    try {
      await Promise.race([
        this.handler.onDevicePublish(deviceId, packet.topic, payload),
        new Promise<never>((_, reject) => {
          timer = this.clock.setTimeout(() => reject(new CodedError('ERR_HOOK_TIMEOUT', `onDevicePublish took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return null;
    } catch (err) {
      return err ?? new CodedError('ERR_HOOK_FAILED', 'onDevicePublish rejected without a reason');
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private finish(deviceId: string, packet: PublishPacket, payload: Buffer, failure: unknown, done: (err?: Error | null) => void): void {
    if (failure === null) {
      this.accepted++;
      done(null);
    } else if (failure instanceof PublishRefused) {
      this.refuse(packet, deviceId, payload, failure.code, failure.message, done);
    } else {
      this.hookFailures++;
      this.log.error({ device: deviceId, topic: packet.topic, code: errorCode(failure), err: failure }, 'could not make a device message durable; PUBACK withheld');
      done(new CodedError('ERR_HOOK_FAILED', 'device message not made durable', { cause: failure }));
    }
  }

  /**
   * Acknowledges and drops: the record goes to the dead-letter file, and the packet is moved to a `$` topic
   * that no wildcard matches (MQTT-4.7.2-1), emptied and un-retained, so nothing downstream sees it.
   */
  private refuse(packet: PublishPacket, deviceId: string, payload: Buffer, reason: string, detail: string, done: (err?: Error | null) => void): void {
    this.deadLetters.record({ reason, detail, device: deviceId, topic: packet.topic, payload });
    packet.topic = `${REFUSED_ROOT}/${deviceId}`;
    packet.payload = Buffer.alloc(0);
    packet.retain = false;
    done(null);
  }

  private onClientReady(client: Client): void {
    const who = this.identities.get(client);
    if (who?.kind === 'device') this.presence.connected(who.id, client);
  }

  private onClientGone(client: Client): void {
    const who = this.identities.get(client);
    // a takeover by a new connection of the same device does not mark it offline (presence.ts)
    if (who?.kind === 'device') this.presence.closed(who.id, client);
  }

  /** The device's retained online/offline topic. */
  private publishStatus(deviceId: string, online: boolean): void {
    // While stopping, the retained offline is written at the next start instead (see start()).
    if (this.aedes) this.publish(deviceStatusTopic(deviceId), online ? 'online' : 'offline', { retain: true, qos: 1 }).catch((err: unknown) => {
      // A publish that raced stop() is rewritten at the next start; only a running broker's failure matters.
      if (this.aedes) this.log.warn({ device: deviceId, err }, 'could not publish device status');
    });
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new CodedError('ERR_BROKER_LISTEN', `cannot listen on ${host}:${port}`, { cause: err })));
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
