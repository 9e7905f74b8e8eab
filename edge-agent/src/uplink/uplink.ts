/**
 * The ordered uplink (issue 4, item 2): reads the outbox in seq order and publishes Envelopes QoS 1 on
 * `edges/<edge>/uplink`, with a bounded window of batches awaiting the cloud's ack on `edges/<edge>/down`.
 *
 * The outbox advances only on that ack (`upTo`: every seq <= upTo is committed), never on PUBACK, which
 * proves only that the broker holds the batch. Recovery is go-back-N: on an ack timeout, a reconnect, or an
 * ack that shows the cloud refused a gap, everything from upTo + 1 is sent again, in order, with the
 * records' original contents (their timestamps included); the cloud skips what it already has.
 *
 * MQTT.js's own fixed-interval reconnect is off (reconnectPeriod 0); reconnects follow our Backoff
 * (exponential, capped, jittered) on an injectable clock, so a fleet of edges does not reconnect in step.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { edgeDownTopic, edgeUplinkTopic, type Command } from '@safe-community/contracts';
import { Backoff, createLogger, systemClock, type BackoffOptions, type Clock, type Logger } from '@safe-community/runtime';
import type { OutboxRecord, OutboxStats } from '../outbox/index.js';
import { parseDown } from './down.js';
import { envelopeJson } from './envelope-v2.js';
import { DownVerifier, type DownRefusalCode } from './down-verify.js';

/** What the uplink needs from the outbox. */
export interface UplinkSource {
  readonly ackedSeq: number;
  readonly durableSeq: number;
  /** The outbox's epoch (its numbering); sent with every envelope when present. */
  readonly epoch?: string;
  readFrom(seq: number, maxCount: number, maxBytes: number): Promise<OutboxRecord[]>;
  ackUpTo(seq: number): Promise<void>;
  onDurable(listener: (seq: number) => void): () => void;
  stats(): OutboxStats;
}

export interface UplinkOptions {
  /** Cloud broker, e.g. mqtt://127.0.0.1:1883 (credentials in the URL are redacted in logs). */
  url: string;
  edge: string;
  site: string;
  source: UplinkSource;
  clientId?: string;
  username?: string;
  password?: string;
  /**
   * This edge's own secret (issue 12): its login on the cloud broker (user name = edge id, unless
   * `username` says otherwise) and the key that every down message must be signed with. Unset: a
   * development edge that accepts unsigned down messages.
   */
  secret?: string;
  /** Largest clock difference accepted on a signed down message. Default 120 s. */
  maxDownSkewMs?: number;
  /** A down message refused by the signature check (recorded by the agent as a dead letter). */
  onDownRefused?: (refusal: { code: DownRefusalCode; reason: string; payload: Buffer }) => void;
  /** An ack beyond the highest seq this edge has sent: ignored, and raised by the agent as `uplink.ack_invalid`. */
  onInvalidAck?: (info: { upTo: number; highestSent: number }) => void;
  /** Most records per Envelope. Default 1000. */
  maxBatchMessages?: number;
  /** Most record bytes per Envelope (one record may exceed it alone). Default 512 KiB. */
  maxBatchBytes?: number;
  /** Most batches published and not yet acked by the cloud. Default 4. */
  window?: number;
  /** Go back to the last ack when the oldest batch in flight has had no ack for this long. Default 10 s. */
  ackTimeoutMs?: number;
  /** Ceiling for the ack timeout, which doubles with each timeout in a row. Default 16 × ackTimeoutMs. */
  maxAckTimeoutMs?: number;
  /** Reconnect backoff. Default 500 ms doubling to 30 s, 50 % jitter. */
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  keepaliveSec?: number;
  /** How long stop() waits for publishes to be PUBACKed before closing. Default 2 s. */
  stopTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Commands from the cloud, validated against the contract. */
  onCommand?: (command: Command) => void | Promise<void>;
}

export interface UplinkMetrics {
  connected: boolean;
  depth: number;
  oldestAgeMs: number;
  /** Append → cloud ack of the newest acked record, at its ack. */
  lagMs: number;
  ackedSeq: number;
  sentSeq: number;
  inflightBatches: number;
  batchesSent: number;
  messagesSent: number;
  goBacks: number;
  reconnects: number;
  commands: number;
  invalidDown: number;
  /** Down messages refused by the signature check (unsigned, wrong MAC, another edge's, stale, replayed). */
  downRefused: number;
  /** Acks beyond the highest seq this edge has sent: ignored, never advancing the outbox. */
  ackInvalid: number;
}

interface Batch {
  first: number;
  last: number;
  sentAt: number;
  /** appendedAt of the last record, for the lag figure. */
  lastAppendedAt: number;
}

export class Uplink {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private client: MqttClient | undefined;
  private connected = false;
  private running = false;
  private unsubscribeDurable: (() => void) | undefined;
  private reconnectTimer: unknown;
  private ackTimer: unknown;
  private retryTimer: unknown;
  private uplinkTopic = '';
  private inflight: Batch[] = [];
  private sendNext = 1;
  private cloudUpTo = 0;
  /** Bumped on every go-back and reconnect; a pump that awaited across a bump drops what it read. */
  private epoch = 0;
  /**
   * Answers still expected to batches sent before the last go-back. They arrive before any answer to the
   * resent batches (one connection, in order), and a no-progress one among them must not trigger another
   * go-back, or one lost batch would set off a resend per batch of the old window. Over-counting (some old
   * batches were lost and never answer) only defers detection to the ack timeout; under-counting costs a
   * spare resend. Neither loses nor doubles a record.
   */
  private staleAnswers = 0;
  /**
   * Ack timeouts in a row. While the cloud's ingest is down but its broker is up, every resend would be
   * queued at the broker; so after a timeout the window shrinks to one batch and the timeout doubles,
   * until an ack shows progress (as TCP does after a retransmission timeout).
   */
  private timeouts = 0;
  private pumping = false;
  private pumpAgain = false;
  private unsettled = 0;
  private settledWaiters: (() => void)[] = [];
  private readonly m = { lagMs: 0, batchesSent: 0, messagesSent: 0, goBacks: 0, reconnects: 0, commands: 0, invalidDown: 0, downRefused: 0, ackInvalid: 0 };
  private readonly verifier: DownVerifier;
  /**
   * The highest seq this edge may have sent: everything durable at start (an earlier run may have sent it),
   * then each batch sent. An ack beyond it cannot be the cloud's (issue 12, item 3).
   */
  private highestSent = 0;

  constructor(private readonly opts: UplinkOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'uplink' });
    this.backoff = new Backoff(opts.backoff ?? { initialMs: 500, maxMs: 30_000, jitter: 0.5 });
    this.verifier = new DownVerifier({ edge: opts.edge, secret: opts.secret, ...(opts.maxDownSkewMs ? { maxSkewMs: opts.maxDownSkewMs } : {}), clock: this.clock });
  }

  async start(): Promise<void> {
    if (this.running) return;
    // Builds (and so validates) the topics up front: a bad edge id fails start(), not the first publish.
    this.uplinkTopic = edgeUplinkTopic(this.opts.edge);
    edgeDownTopic(this.opts.edge);
    this.running = true;
    this.cloudUpTo = this.opts.source.ackedSeq;
    this.sendNext = this.cloudUpTo + 1;
    this.highestSent = this.opts.source.durableSeq;
    if (!this.verifier.enforcing) this.log.warn({ edge: this.opts.edge }, 'uplink has no edge secret: down messages (commands, acks) are NOT authenticated; development only');
    this.unsubscribeDurable = this.opts.source.onDurable(() => this.pump());
    this.connect();
  }

  /** Stops sending, waits (bounded) for publishes to be PUBACKed, then closes the connection. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribeDurable?.();
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.ackTimer);
    this.clock.clearTimeout(this.retryTimer);
    if (this.unsettled > 0 && this.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.stopTimeoutMs ?? 2000);
        this.settledWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) await client.endAsync(true);
  }

  metrics(): UplinkMetrics {
    const s = this.opts.source.stats();
    return {
      connected: this.connected, depth: s.depth, oldestAgeMs: s.oldestAgeMs, ackedSeq: this.cloudUpTo,
      sentSeq: this.sendNext - 1, inflightBatches: this.inflight.length, ...this.m,
    };
  }

  private connect(): void {
    if (!this.running) return;
    const { opts } = this;
    const client = mqtt.connect(opts.url, {
      reconnectPeriod: 0,
      clean: true,
      clientId: opts.clientId ?? `edge-${opts.edge}`,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      keepalive: opts.keepaliveSec ?? 30,
      ...(opts.username !== undefined ? { username: opts.username } : opts.secret !== undefined ? { username: opts.edge } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : opts.secret !== undefined ? { password: opts.secret } : {}),
    });
    // Batches and acks are small request/answer writes: turn Nagle off so an ack never waits ~40 ms.
    client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('message', (_topic, payload) => this.onDown(payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'uplink connection error'));
    client.on('close', () => this.onClose(client));
  }

  private async onConnect(client: MqttClient): Promise<void> {
    try {
      await client.subscribeAsync(edgeDownTopic(this.opts.edge), { qos: 1 });
    } catch (err) {
      this.log.warn({ err }, 'uplink: subscribing to the down topic failed; reconnecting');
      client.end(true);
      return;
    }
    if (client !== this.client) return;
    this.connected = true;
    this.backoff.reset();
    this.log.info({ url: this.opts.url, from: this.cloudUpTo + 1 }, 'uplink connected');
    this.goBack('connect');
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    const wasConnected = this.connected;
    this.connected = false;
    // Answers to these may still come once reconnected (the cloud's session outlives ours).
    this.staleAnswers = this.inflight.length;
    this.inflight = [];
    this.epoch++;
    this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unsettled = 0;
    this.releaseSettled(true);
    client.removeAllListeners('close');
    client.on('error', () => undefined); // a late socket error on a client we are done with
    client.end(true);
    this.client = undefined;
    if (!this.running) return;
    const delay = this.backoff.next();
    this.m.reconnects++;
    if (wasConnected) this.log.warn({ delay }, 'uplink disconnected; reconnecting');
    this.reconnectTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private onDown(payload: Buffer): void {
    const verdict = this.verifier.check(payload.toString('utf8'));
    if (verdict.kind === 'refused') {
      this.m.downRefused++;
      this.log.warn({ code: verdict.code, reason: verdict.reason }, 'down message refused: not authenticated by the cloud');
      this.opts.onDownRefused?.({ code: verdict.code, reason: verdict.reason, payload });
      return;
    }
    const msg = parseDown(Buffer.from(verdict.body), this.opts.edge);
    if (msg.kind === 'invalid') {
      this.m.invalidDown++;
      this.log.warn({ reason: msg.reason }, 'invalid down message ignored');
    } else if (msg.kind === 'ack') {
      this.onAck(msg.upTo);
    } else {
      this.m.commands++;
      const handler = this.opts.onCommand;
      if (!handler) return;
      try {
        void Promise.resolve(handler(msg.command)).catch((err) => this.log.error({ err, command: msg.command.id }, 'command handler failed'));
      } catch (err) {
        this.log.error({ err, command: msg.command.id }, 'command handler failed');
      }
    }
  }

  private onAck(upTo: number): void {
    if (upTo > this.highestSent) {
      // Nothing this edge sent can be acked that far: a forged or broken ack. Acting on it would mark records
      // delivered that the cloud never had (a fire alarm stuck for good); it is ignored and raised.
      this.m.ackInvalid++;
      this.log.error({ upTo, highestSent: this.highestSent }, 'ERR_UPLINK_ACK_INVALID: ack beyond the highest seq sent; ignored');
      this.opts.onInvalidAck?.({ upTo, highestSent: this.highestSent });
      return;
    }
    const stale = this.staleAnswers > 0;
    if (stale) this.staleAnswers--;
    if (upTo > this.cloudUpTo) {
      this.cloudUpTo = upTo;
      this.timeouts = 0;
      let acked: Batch | undefined;
      while (this.inflight.length > 0 && this.inflight[0]!.last <= upTo) acked = this.inflight.shift();
      const head = this.inflight[0];
      if (head && head.first <= upTo) head.first = upTo + 1; // acked part-way (the cloud's batches differ)
      if (acked) this.m.lagMs = Math.max(0, this.clock.now() - acked.lastAppendedAt);
      // The cloud may be ahead of this run (after a restart from an older checkpoint): skip what it has.
      if (this.sendNext <= upTo) this.sendNext = upTo + 1;
      this.opts.source.ackUpTo(upTo).catch((err) => this.log.error({ err }, 'outbox ack failed'));
      this.armAckTimer(true);
      this.pump();
    } else if (this.inflight.length > 0 && !stale) {
      // No progress while batches are in flight: the cloud refused one for a gap (an earlier batch was lost).
      this.log.info({ upTo, inflightFrom: this.inflight[0]!.first }, 'cloud refused a batch; resending');
      this.goBack('refused');
    }
  }

  /** Resend everything after the cloud's last ack, in order. */
  private goBack(reason: string): void {
    if (reason !== 'connect') this.m.goBacks++;
    this.epoch++;
    // The batch answered by a refusal, or the one that timed out, will not be answered (again).
    if (reason !== 'connect') this.staleAnswers = Math.max(0, this.inflight.length - 1);
    this.inflight = [];
    this.sendNext = this.cloudUpTo + 1;
    this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.pump();
  }

  private armAckTimer(reset: boolean): void {
    if (reset) {
      this.clock.clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
    const oldest = this.inflight[0];
    if (!oldest || this.ackTimer !== undefined) return;
    const base = this.opts.ackTimeoutMs ?? 10_000;
    const timeout = Math.min(this.opts.maxAckTimeoutMs ?? base * 16, base * 2 ** this.timeouts);
    const wait = Math.max(1, oldest.sentAt + timeout - this.clock.now());
    this.ackTimer = this.clock.setTimeout(() => {
      this.ackTimer = undefined;
      const head = this.inflight[0];
      if (!head || !this.connected) return;
      if (this.clock.now() - head.sentAt >= timeout) {
        this.log.info({ from: this.cloudUpTo + 1, timeout }, 'no ack in time; resending');
        this.timeouts++;
        this.goBack('timeout');
      } else this.armAckTimer(false);
    }, wait);
  }

  /** Fills the window. One pump runs at a time, so batches leave in seq order. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop()
      .catch((err) => {
        this.log.error({ err }, 'uplink: reading the outbox failed; retrying in 1 s');
        this.clock.clearTimeout(this.retryTimer);
        this.retryTimer = this.clock.setTimeout(() => this.pump(), 1000);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async pumpLoop(): Promise<void> {
    const { source } = this.opts;
    const window = this.timeouts > 0 ? 1 : this.opts.window ?? 4;
    const maxCount = this.opts.maxBatchMessages ?? 1000;
    const maxBytes = this.opts.maxBatchBytes ?? 512 * 1024;
    while (this.running && this.connected && this.client && this.inflight.length < window && this.sendNext <= source.durableSeq) {
      const epoch = this.epoch;
      const from = this.sendNext;
      const records = await source.readFrom(from, maxCount, maxBytes);
      if (epoch !== this.epoch || !this.connected) continue; // a go-back or reconnect moved the start
      const first = records[0];
      if (!first) break;
      // Defensive: an Envelope must be a contiguous run, or the cloud would refuse it for a gap.
      let n = 1;
      while (n < records.length && records[n]!.seq === first.seq + n) n++;
      if (n < records.length) {
        this.log.error({ from: first.seq, at: first.seq + n }, 'outbox read was not contiguous; sending the contiguous part');
        records.length = n;
      }
      const last = records[n - 1]!;
      const payload = envelopeJson(this.opts.edge, this.opts.site, new Date(this.clock.now()).toISOString(), records.map((r) => r.json), this.opts.source.epoch);
      this.publish(this.client, payload);
      this.inflight.push({ first: first.seq, last: last.seq, sentAt: this.clock.now(), lastAppendedAt: last.appendedAt });
      this.sendNext = last.seq + 1;
      if (last.seq > this.highestSent) this.highestSent = last.seq;
      this.m.batchesSent++;
      this.m.messagesSent += records.length;
      this.armAckTimer(false);
    }
  }

  private publish(client: MqttClient, payload: string): void {
    this.unsettled++;
    client.publish(this.uplinkTopic, payload, { qos: 1 }, (err) => {
      // Callbacks from a connection already closed were written off when it closed.
      if (client === this.client) this.unsettled--;
      // A failed publish surfaces as a close; the go-back after the reconnect resends it.
      if (err) this.log.debug({ err: err.message }, 'uplink publish failed');
      this.releaseSettled(false);
    });
  }

  private releaseSettled(all: boolean): void {
    if (!all && this.unsettled > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of waiters) w();
  }
}
