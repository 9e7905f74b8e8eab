/**
 * An edge as the ingest sees it: publishes envelopes of consecutive records on its uplink (QoS 1), keeps
 * a window of unacknowledged envelopes, advances only on the cloud's ack, and goes back to ack + 1 when
 * no progress comes for a while (go-back-N), as the real outbox does.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { edgeDownTopic, edgeUplinkTopic, validators, type UplinkMessage } from '@safe-community/contracts';
import { envelope } from './messages.js';

export interface FakeEdgeOptions {
  url: string;
  edge: string;
  protocolVersion?: 4 | 5;
  batchSize?: number;
  /** Envelopes in flight beyond the acknowledged seq. */
  window?: number;
  /** No progress for this long → resend from ack + 1. */
  resendMs?: number;
  make: (edge: string, seq: number) => UplinkMessage;
}

export class FakeEdge {
  acked = 0;
  /** Every upTo received, in order. */
  readonly acks: number[] = [];
  resends = 0;
  private client: MqttClient | undefined;
  private next = 1;
  private total = 0;
  private lastProgress = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];

  constructor(private readonly opts: FakeEdgeOptions) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: this.opts.protocolVersion ?? 4,
      clientId: `fake-${this.opts.edge}`,
      clean: true,
      reconnectPeriod: 200,
    });
    this.client = client;
    client.on('message', (_topic, payload) => {
      const msg = validators.down.assert(JSON.parse(payload.toString('utf8')));
      if (msg.type !== 'ack') return;
      this.acks.push(msg.upTo);
      if (msg.upTo > this.acked) {
        this.acked = msg.upTo;
        this.lastProgress = Date.now();
        if (this.acked >= this.total) for (const w of this.waiters.splice(0)) w();
        this.pump();
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe(edgeDownTopic(this.opts.edge), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      client.once('error', reject);
    });
    this.timer = setInterval(() => {
      if (this.acked < this.total && Date.now() - this.lastProgress > (this.opts.resendMs ?? 1000)) {
        this.resends++;
        this.next = this.acked + 1;
        this.lastProgress = Date.now();
        this.pump();
      }
    }, 100);
  }

  /** Sends records 1..total (continuing from what was sent before) and resolves when all are acknowledged. */
  send(total: number, timeoutMs = 60_000): Promise<void> {
    this.total = total;
    this.lastProgress = Date.now();
    const done = new Promise<void>((resolve, reject) => {
      if (this.acked >= total) return resolve();
      const t = setTimeout(() => reject(new Error(`edge ${this.opts.edge}: only ${this.acked}/${total} acknowledged`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    this.pump();
    return done;
  }

  /** Publishes raw bytes on the uplink, outside the sequence (for bad-input tests). */
  publishRaw(payload: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.client!.publish(edgeUplinkTopic(this.opts.edge), payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
  }

  private pump(): void {
    const batch = this.opts.batchSize ?? 100;
    const window = (this.opts.window ?? 4) * batch;
    while (this.next <= this.total && this.next - this.acked - 1 < window) {
      const from = this.next;
      const to = Math.min(this.total, from + batch - 1);
      const msgs: UplinkMessage[] = [];
      for (let s = from; s <= to; s++) msgs.push(this.opts.make(this.opts.edge, s));
      this.client!.publish(edgeUplinkTopic(this.opts.edge), JSON.stringify(envelope(this.opts.edge, msgs)), { qos: 1 });
      this.next = to + 1;
    }
  }
}
