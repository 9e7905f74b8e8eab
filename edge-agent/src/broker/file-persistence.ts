/**
 * Aedes persistence that survives an agent restart: the in-memory persistence from aedes-persistence
 * does the work, and after every change the broker's durable state — retained messages, persistent
 * sessions' subscriptions and their queued QoS 1/2 messages — is written as one JSON snapshot
 * (temp file + rename) under the data dir. It is loaded back at setup.
 *
 * Why not aedes-persistence-level: it is not in the vetted package list of this project. The snapshot is
 * small at the scale of one building's devices (a few hundred sessions, a few queued commands each).
 * In-flight inbound QoS 2 state and wills are not kept: devices publish at QoS 1 and the broker itself
 * publishes each device's offline status.
 */
import { createRequire } from 'node:module';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CodedError, type Logger } from '@safe-community/runtime';

interface PacketLike {
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain?: boolean;
  brokerId?: string;
  brokerCounter?: number;
}
interface SubLike {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}
interface ClientRef {
  id: string;
}
interface BrokerLike {
  id: string;
  counter: number;
}

/** The part of aedes-persistence's MemoryPersistence this class relies on. */
interface MemoryPersistenceApi {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: PacketLike): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  addSubscriptions(client: ClientRef, subs: SubLike[]): Promise<void>;
  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  subscriptionsByClient(client: ClientRef): Promise<SubLike[]>;
  outgoingEnqueue(sub: { clientId: string }, packet: PacketLike): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: PacketLike): Promise<void>;
  outgoingUpdate(client: ClientRef, packet: PacketLike): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: PacketLike): Promise<unknown>;
  outgoingStream(client: ClientRef): Readable;
}

// aedes-persistence ships CommonJS without types for this subpath; the class is its documented memory backend.
const MemoryPersistence = createRequire(import.meta.url)('aedes-persistence/asyncPersistence.js') as new (opts?: object) => MemoryPersistenceApi;

interface StoredPacket {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}
interface Snapshot {
  version: 1;
  retained: StoredPacket[];
  sessions: Record<string, { subs: SubLike[]; outgoing: StoredPacket[] }>;
}

const toStored = (p: PacketLike): StoredPacket => ({
  topic: p.topic,
  payload: (typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload).toString('base64'),
  qos: p.qos,
  retain: p.retain ?? false,
});

async function collect(stream: Readable): Promise<PacketLike[]> {
  const out: PacketLike[] = [];
  for await (const p of stream) out.push(p as PacketLike);
  return out;
}

export class FilePersistence extends MemoryPersistence {
  readonly file: string;
  private readonly sessionIds = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private writeError: unknown = null;
  private failures = 0;
  private closed = false;

  /** The logger hears each failed snapshot write (with its reason) and the write that ends a failing spell. */
  constructor(dataDir: string, private readonly log?: Logger) {
    super();
    this.file = join(dataDir, 'broker-state.json');
  }

  /** Snapshot writes that failed since this persistence was made. */
  get writeFailures(): number {
    return this.failures;
  }

  /** Why the last snapshot write failed, while no later one has succeeded; null when the state on disk is current. */
  get lastWriteError(): string | null {
    if (this.writeError === null) return null;
    const e = this.writeError as NodeJS.ErrnoException;
    return e.code ? `${e.code}: ${e.message}` : String(e.message ?? e);
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    let snap: Snapshot;
    try {
      snap = JSON.parse(await readFile(this.file, 'utf8')) as Snapshot;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new CodedError('ERR_BROKER_STATE', `cannot load ${this.file}`, { cause: err });
    }
    const b = broker as BrokerLike;
    for (const p of snap.retained ?? []) await super.storeRetained({ ...p, payload: Buffer.from(p.payload, 'base64') });
    for (const [id, s] of Object.entries(snap.sessions ?? {})) {
      this.sessionIds.add(id);
      if (s.subs.length > 0) await super.addSubscriptions({ id }, s.subs);
      // A fresh broker id and counter, so the broker can match these when it delivers them (outgoingUpdate).
      for (const p of s.outgoing) {
        await super.outgoingEnqueue({ clientId: id }, { ...p, payload: Buffer.from(p.payload, 'base64'), brokerId: b.id, brokerCounter: ++b.counter });
      }
    }
  }

  override async storeRetained(packet: PacketLike): Promise<void> {
    await super.storeRetained(packet);
    await this.persist();
  }

  override async addSubscriptions(client: ClientRef, subs: SubLike[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    this.sessionIds.add(client.id);
    await this.persist();
  }

  override async removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    await this.persist();
  }

  override async cleanSubscriptions(client: ClientRef): Promise<void> {
    await super.cleanSubscriptions(client);
    if (this.sessionIds.delete(client.id)) await this.persist();
  }

  // Queued deliveries are written behind, not awaited: Aedes enqueues every QoS 1 message to a persistent
  // session before it sends it, so awaiting the snapshot put a whole-state file write in front of every
  // linkage command (about 7 ms at 200 devices). What a crash can lose is a command still queued for a
  // device; the linkage engine re-asserts its holds on restart, and a device reconnecting gets those.
  override async outgoingEnqueue(sub: { clientId: string }, packet: PacketLike): Promise<void> {
    await super.outgoingEnqueue(sub, packet);
    void this.persist();
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: PacketLike): Promise<void> {
    await super.outgoingEnqueueCombi(subs, packet);
    void this.persist();
  }

  override async outgoingClearMessageId(client: ClientRef, packet: PacketLike): Promise<unknown> {
    const removed = await super.outgoingClearMessageId(client, packet);
    if (removed) void this.persist();
    return removed;
  }

  /** Waits for every pending write and stops writing; throws the last write error, if any. */
  async close(): Promise<void> {
    await this.persist();
    this.closed = true;
    await this.writing;
    if (this.writeError) throw new CodedError('ERR_BROKER_STATE', `cannot write ${this.file}`, { cause: this.writeError });
  }

  /** Coalesces: changes that arrive while a snapshot is being written go into the next one. */
  private persist(): Promise<void> {
    // After close the broker is gone; late callbacks must not write over the final snapshot.
    if (this.closed) return this.writing;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write();
        if (this.writeError !== null) this.log?.info({ file: this.file }, 'broker state saved again');
        this.writeError = null;
      } catch (err) {
        // Not thrown: the broker goes on in memory. It is counted, logged, and the broker's health says so
        // until a write succeeds, since a restart now would lose retained state and queued commands.
        this.failures++;
        this.writeError = err;
        this.log?.error({ file: this.file, reason: this.lastWriteError, failures: this.failures }, 'broker state not saved');
      }
    });
    return this.writing;
  }

  private async write(): Promise<void> {
    const snap: Snapshot = { version: 1, retained: [], sessions: {} };
    for (const p of await collect(super.createRetainedStream('#'))) if (!p.topic.startsWith('$')) snap.retained.push(toStored(p));
    for (const id of this.sessionIds) {
      const subs = await super.subscriptionsByClient({ id });
      const outgoing = (await collect(super.outgoingStream({ id }))).map(toStored);
      if (subs.length > 0 || outgoing.length > 0) snap.sessions[id] = { subs, outgoing };
    }
    await mkdir(join(this.file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(snap), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
