/**
 * The MQTT side of the ingest: MQTT 5 connections in a shared-subscription group on `edges/+/uplink`
 * (QoS 1, persistent session), each message handled to its commit before the broker gets its PUBACK.
 *
 * MQTT.js sends the PUBACK of a QoS 1 message only when `client.handleMessage` calls back (on MQTT 5
 * and 3.1.1 alike; `customHandleAcks` would work on 5 only), and handles the connection's next packet
 * only after that, so each connection holds exactly one envelope in flight; `consumers` opens more
 * connections in the same group to overlap work. The broker keeps what is not acknowledged and delivers
 * it again after a reconnect (MQTT 5 §4.4), which is what turns a database outage into backpressure
 * instead of loss.
 *
 * MQTT 3.1.1 (protocol 4) is for brokers without MQTT 5, such as an in-process Aedes: no shared group
 * there, so one consumer, subscribed to `edges/+/uplink` directly.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { uplinkSubscription } from '@safe-community/contracts';
import { Backoff, CodedError, type Clock, systemClock, type Logger } from '@safe-community/runtime';

export interface MqttConsumerOptions {
  url: string;
  /** 5 (default): shared subscription, session expiry. 4: MQTT 3.1.1, plain subscription. */
  protocolVersion?: 4 | 5;
  clientId: string;
  shareGroup: string;
  consumers: number;
  sessionExpirySec: number;
  keepaliveSec: number;
  retry: { initialMs: number; maxMs: number };
  clock?: Clock;
  logger: Logger;
}

/**
 * Handles one message. Resolve to acknowledge it (after the commit); reject to leave it unacknowledged.
 * `publish` sends on the same connection, ahead of the PUBACK.
 */
export type MessageHandler = (topic: string, payload: Buffer, publish: (topic: string, body: string) => void) => Promise<void>;

interface Conn {
  client: MqttClient;
  backoff: Backoff;
  timer: unknown;
  connected: boolean;
  /** Resolves start() once this connection has subscribed for the first time. */
  firstSubscribed: Promise<void>;
  markSubscribed: () => void;
}

export class MqttConsumer {
  private conns: Conn[] = [];
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly opts: MqttConsumerOptions, private readonly handler: MessageHandler) {
    this.clock = opts.clock ?? systemClock;
  }

  /** True when every connection is up and subscribed. */
  get connected(): boolean {
    return this.conns.length > 0 && this.conns.every((c) => c.connected);
  }

  /** Connects; resolves when every connection has been subscribed once, or after `waitMs` (it keeps trying then). */
  async start(waitMs = 5000): Promise<void> {
    this.stopped = false;
    const firsts: Promise<void>[] = [];
    for (let i = 0; i < this.opts.consumers; i++) {
      const clientId = this.opts.consumers === 1 ? this.opts.clientId : `${this.opts.clientId}-${i}`;
      const conn = this.open(clientId);
      this.conns.push(conn);
      firsts.push(conn.firstSubscribed);
    }
    let timer: unknown;
    await Promise.race([Promise.all(firsts), new Promise((r) => { timer = this.clock.setTimeout(() => r(undefined), waitMs); })]);
    this.clock.clearTimeout(timer);
    if (!this.connected) this.opts.logger.warn({ url: this.opts.url }, 'cloud broker not reachable yet; still trying');
  }

  /**
   * Publishes one message at QoS 1 on a connected connection (commands down from the API); resolves when the
   * broker confirms it, rejects when no connection is up or the broker refuses it.
   */
  publish(topic: string, body: string): Promise<void> {
    const conn = this.conns.find((c) => c.connected);
    if (!conn) return Promise.reject(new CodedError('ERR_MQTT_DOWN', 'no connection to the cloud broker'));
    return new Promise((resolve, reject) => {
      conn.client.publish(topic, body, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const conns = this.conns;
    this.conns = [];
    await Promise.all(conns.map((c) => new Promise<void>((resolve) => {
      this.clock.clearTimeout(c.timer);
      // Forced: an envelope still waiting for its commit must not be acknowledged on the way out; the
      // session stays on the broker (sessionExpiryInterval), which delivers it again to the next instance.
      c.client.end(true, {}, () => resolve());
    })));
  }

  private open(clientId: string): Conn {
    const log = this.opts.logger.child({ clientId });
    const v5 = (this.opts.protocolVersion ?? 5) === 5;
    const topic = v5 ? uplinkSubscription(this.opts.shareGroup) : uplinkSubscription();
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: v5 ? 5 : 4,
      clientId,
      clean: false,
      keepalive: this.opts.keepaliveSec,
      reconnectPeriod: 0, // our own reconnect, with backoff
      resubscribe: false,
      connectTimeout: 10_000,
      ...(v5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySec, receiveMaximum: 16 } } : {}),
    });
    // Acks and PUBACKs are small writes after each commit: turn Nagle off so they leave at once.
    client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    client.handleMessage = (packet, done) => {
      const publish = (t: string, body: string): void => {
        client.publish(t, body, { qos: 1 }, (err) => {
          if (err) log.warn({ err: err.message, topic: t }, 'down message not confirmed by the broker');
        });
      };
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.handler(packet.topic, payload, publish).then(
        () => done(),
        // Not calling done() keeps the PUBACK back; the connection is ended (stop) or lost, and the broker redelivers.
        (err: unknown) => {
          log.warn({ err: (err as Error).message, topic: packet.topic }, 'message left unacknowledged; the broker will deliver it again');
          // Unless we are stopping, drop the connection: the reconnect gets the message redelivered, where
          // a connection kept open would wait for this PUBACK forever.
          if (!this.stopped) client.stream.destroy();
        },
      );
    };
    let markSubscribed = (): void => undefined;
    const firstSubscribed = new Promise<void>((resolve) => { markSubscribed = resolve; });
    const conn: Conn = { client, backoff: new Backoff(this.opts.retry), timer: undefined, connected: false, firstSubscribed, markSubscribed };
    client.on('connect', () => {
      conn.backoff.reset();
      client.subscribe(topic, { qos: 1 }, (err) => {
        if (err) {
          log.error({ err: err.message }, 'subscribe failed; reconnecting');
          client.end(true);
          return;
        }
        conn.connected = true;
        conn.markSubscribed();
        log.info({ topic }, 'consuming edge uplinks');
      });
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'cloud broker connection error'));
    client.on('close', () => {
      conn.connected = false;
      if (this.stopped) return;
      this.clock.clearTimeout(conn.timer);
      const delay = conn.backoff.next();
      conn.timer = this.clock.setTimeout(() => {
        if (!this.stopped) client.reconnect();
      }, delay);
    });
    return conn;
  }
}
