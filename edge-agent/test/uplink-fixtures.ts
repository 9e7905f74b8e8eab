/**
 * Test parts for the uplink (its broker is the testkit's RestartableBroker): a small "cloud" that speaks
 * the delivery protocol of contracts/src/down.ts: it commits a batch only when it continues its high-water
 * mark, skips duplicates, refuses a gap, and answers `{type:'ack', upTo}`. Faults are switched on from the test.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { edgeDownTopic, envelopeRecords, uplinkSubscription, parseEdgeTopic, validators, type AnyEnvelope } from '@safe-community/contracts';
import { RestartableBroker, startParts, tempDir, type Teardown } from '@safe-community/testkit';
import type { OutboxInput } from '../src/ports.js';

/**
 * The cloud side of an uplink test and the edge's folder: a temp dir, a broker that keeps its port across
 * restarts, and an acking TestCloud on it, all stopped (and removed) when the test ends.
 */
export async function cloudRig(t: Teardown, prefix: string): Promise<{ dir: string; broker: RestartableBroker; cloud: TestCloud }> {
  const dir = await tempDir(t, prefix);
  const [broker] = await startParts(t, new RestartableBroker());
  const [cloud] = await startParts(t, new TestCloud(broker.url));
  return { dir, broker, cloud };
}

/** Event number i of a forced door at gate-1: the uplink tests' stock message. */
export const doorForced = (edge: string, site: string, i: number): OutboxInput => ({
  type: 'event',
  data: { id: randomUUID(), site, edge, device: 'gate-1', kind: 'door.forced', severity: 'major', edgeTime: new Date(1_700_000_000_000 + i).toISOString(), payload: { i } },
});

/** What the cloud has stored, kept outside the client so it survives a cloud restart. */
export interface CloudState {
  upTo: number;
  /** Seqs in commit order. */
  committed: number[];
  /** Each committed message as received, by seq. */
  messages: Map<number, unknown>;
  duplicates: number;
  refused: number;
  batches: number;
}

export const emptyCloudState = (): CloudState => ({ upTo: 0, committed: [], messages: new Map(), duplicates: 0, refused: 0, batches: 0 });

export class TestCloud {
  /** While true, batches are committed but no ack is sent. */
  withholdAcks = false;
  /** Batches to ignore entirely (neither commit nor ack), counted down as they arrive. */
  dropBatches = 0;
  /** Envelopes that failed the contract's validator. */
  invalid = 0;
  private client: MqttClient | undefined;

  constructor(readonly url: string, readonly state: CloudState = emptyCloudState()) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.url, { reconnectPeriod: 0, clientId: `cloud-${Math.random().toString(16).slice(2)}` });
    client.on('message', (topic, payload) => this.onUplink(client, topic, payload));
    await client.subscribeAsync(uplinkSubscription(), { qos: 1 });
    this.client = client;
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync(true);
  }

  /** Publishes a down message (a command, or anything a test wants to send). */
  async sendDown(edge: string, message: unknown): Promise<void> {
    await this.client?.publishAsync(edgeDownTopic(edge), JSON.stringify(message), { qos: 1 });
  }

  private onUplink(client: MqttClient, topic: string, payload: Buffer): void {
    const parsed = parseEdgeTopic(topic);
    if (!parsed) return;
    const env: unknown = JSON.parse(payload.toString('utf8'));
    if (!validators.envelope.check(env)) {
      this.invalid++;
      return;
    }
    if (this.dropBatches > 0) {
      this.dropBatches--;
      return;
    }
    this.commit(env);
    if (!this.withholdAcks) {
      client.publish(edgeDownTopic(parsed.edge), JSON.stringify({ v: 1, type: 'ack', edge: parsed.edge, upTo: this.state.upTo }), { qos: 1 });
    }
  }

  private commit(env: AnyEnvelope): void {
    const s = this.state;
    s.batches++;
    const records = envelopeRecords(env);
    const first = records[0]!.seq;
    if (first > s.upTo + 1) {
      s.refused++;
      return;
    }
    for (const m of records) {
      if (m.seq <= s.upTo) s.duplicates++;
      else if (m.seq === s.upTo + 1) {
        s.upTo = m.seq;
        s.committed.push(m.seq);
        s.messages.set(m.seq, m);
      } else throw new Error(`batch not in order: ${m.seq} after ${s.upTo}`);
    }
  }
}

/** True when `committed` is exactly 1..n in order. */
export function exactlyOnceInOrder(committed: readonly number[], n: number): boolean {
  if (committed.length !== n) return false;
  for (let i = 0; i < n; i++) if (committed[i] !== i + 1) return false;
  return true;
}
