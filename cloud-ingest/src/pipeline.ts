/**
 * Between the transports (MQTT, HTTP) and the store: one envelope at a time per edge (a later batch of
 * the same edge waits for the earlier one's commit, or it would look like a gap), retries with backoff
 * while the database is away, and the counters for metrics.
 *
 * A failure that is not the database being away (the store answers its health check) is the envelope's
 * own: after `poisonAttempts` tries its records are written one by one and the one that still fails is
 * dead-lettered in its place, so the cursor moves on and the edge, and every other, keeps flowing
 * (issue 13: one envelope was retried forever while /health stayed 200).
 */
import { Backoff, CodedError, errorCode, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { clip } from './prepare.js';
import { isTransientDbError } from './store/transient.js';
import { isDataError } from './store/write.js';

/** Wait before trying again an envelope the store refused while it was up. */
const OWN_FAILURE_RETRY_MS = 5;
import type { BatchItem, DeadLetterRecord, IngestBatch, Store, WriteResult } from './store/types.js';

export interface IngestCounters {
  /** Envelopes committed (including those that held only duplicates). */
  envelopes: number;
  /** Rows written to the data tables. */
  rowsWritten: number;
  /** Records skipped because they were already stored. */
  duplicates: number;
  /** Records and envelopes recorded in dead_letters. */
  deadLetters: number;
  /** Envelopes refused because they started past the edge's cursor + 1. */
  gaps: number;
  /** Failed commit attempts (each one retried, or answered 503 over HTTP). */
  storeFailures: number;
  /** Milliseconds spent in successful envelope commits, summed (with envelopes: the mean commit time). */
  commitMs: number;
  /** Records dead-lettered because the store refused them even alone (poison). */
  poisoned: number;
  /** Records stored at the ingest time because their own was out of range (time-sanity.ts). */
  clockAdjusted: number;
}

/** A record the store refused even when written alone: dead-lettered in its place (its seq is accounted for). */
export interface IsolatedRecord { seq: number; code: string; reason: string }

export type PipelineResult = WriteResult & { isolated: IsolatedRecord[] };

/** What /health reads: is ingestion moving? */
export interface PipelineState {
  /** Age of the oldest envelope taken in and not yet committed or answered (0 when none). */
  oldestPendingMs: number;
  /** Failed commit attempts since the last success. */
  consecutiveFailures: number;
  lastError: string | null;
}

/** Ingest health from its state: degraded when envelopes wait past `stuckMs` or commits keep failing. */
export function ingestHealth(s: PipelineState, stuckMs: number): { state: 'up' | 'degraded'; reason?: string } {
  if (s.oldestPendingMs > stuckMs) {
    return { state: 'degraded', reason: `oldest envelope waiting ${Math.round(s.oldestPendingMs / 1000)} s; ${s.consecutiveFailures} commit failures in a row${s.lastError ? `; last: ${s.lastError}` : ''}` };
  }
  if (s.consecutiveFailures >= 3) return { state: 'degraded', reason: `${s.consecutiveFailures} commit failures in a row; last: ${s.lastError}` };
  return { state: 'up' };
}

export interface PipelineOptions {
  retry: { initialMs: number; maxMs: number };
  /** Tries of an envelope failing while the store is healthy before its records are isolated. Default 3. */
  poisonAttempts?: number;
  clock?: Clock;
  logger: Logger;
  /** Called after each committed write (the cloud rules' feed); must not throw and must not block the ack. */
  onCommitted?: (batch: IngestBatch, result: WriteResult) => void;
}

export interface WriteOpts {
  /** Keep trying until the commit succeeds or the pipeline stops (MQTT); false fails fast (HTTP answers 503). */
  retry: boolean;
}

export class Pipeline {
  readonly counters: IngestCounters = { envelopes: 0, rowsWritten: 0, duplicates: 0, deadLetters: 0, gaps: 0, storeFailures: 0, commitMs: 0, poisoned: 0, clockAdjusted: 0 };
  private readonly pending = new Map<number, number>();
  private nextPending = 0;
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly sleepers = new Set<{ handle: unknown; reject: (err: Error) => void }>();
  private stopping = false;
  private readonly clock: Clock;

  constructor(private readonly store: Store, private readonly opts: PipelineOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Lets new work in again after a stop (a restarted service reuses its pipeline). */
  start(): void {
    this.stopping = false;
  }

  /** Abandons retries in progress: their messages stay unacknowledged, so the broker delivers them again. */
  stop(): void {
    this.stopping = true;
    for (const s of this.sleepers) {
      this.clock.clearTimeout(s.handle);
      s.reject(new CodedError('ERR_STOPPING', 'ingest is stopping'));
    }
    this.sleepers.clear();
  }

  state(): PipelineState {
    const now = this.clock.now();
    let oldest = now;
    for (const t of this.pending.values()) oldest = Math.min(oldest, t);
    return { oldestPendingMs: now - oldest, consecutiveFailures: this.consecutiveFailures, lastError: this.lastError };
  }

  write(batch: IngestBatch, opts: WriteOpts): Promise<PipelineResult> {
    const id = this.nextPending++;
    this.pending.set(id, this.clock.now());
    return this.serial(batch.edge, () => this.commit(batch, opts)).then((r) => {
      this.counters.envelopes++;
      this.counters.duplicates += r.duplicates;
      this.counters.deadLetters += r.deadLettered;
      if (r.gap) this.counters.gaps++;
      if (r.epoch === 'new') this.opts.logger.warn({ edge: batch.edge, epoch: batch.epoch }, 'edge outbox restarted under a new epoch (wiped or replaced): its records are stored after the old ones');
      if (r.epoch === 'stale') this.opts.logger.warn({ edge: batch.edge, epoch: batch.epoch }, 'envelope of an outbox epoch the edge has left: dead-lettered (ERR_EPOCH_STALE)');
      for (const n of Object.values(r.written)) this.counters.rowsWritten += n;
      this.opts.onCommitted?.(batch, r);
      return r;
    }).finally(() => this.pending.delete(id));
  }

  /** One envelope to its commit: retried while the store is away, isolated once it is the envelope's own fault. */
  private async commit(batch: IngestBatch, opts: WriteOpts): Promise<PipelineResult> {
    const backoff = new Backoff({ initialMs: this.opts.retry.initialMs, maxMs: this.opts.retry.maxMs, jitter: 0.5 });
    let ownFailures = 0;
    for (;;) {
      if (this.stopping) throw new CodedError('ERR_STOPPING', 'ingest is stopping');
      try {
        const t0 = performance.now();
        const r = ownFailures >= (this.opts.poisonAttempts ?? 3) ? await this.isolate(batch) : { ...(await this.store.writeBatch(batch)), isolated: [] };
        this.counters.commitMs += performance.now() - t0;
        this.consecutiveFailures = 0;
        return r;
      } catch (err) {
        this.counters.storeFailures++;
        this.consecutiveFailures++;
        this.lastError = `${errorCode(err)}: ${(err as Error).message}`.slice(0, 300);
        if (this.stopping) throw err;
        const down = await this.storeDown(err);
        if (!down) ownFailures++;
        // HTTP fails fast only when the store is away (503); an envelope's own failure goes on to isolation.
        else if (!opts.retry) throw err;
        const delay = down ? backoff.next() : OWN_FAILURE_RETRY_MS;
        this.opts.logger.warn({ err: (err as Error).message, code: errorCode(err), attempt: backoff.attempts, delayMs: delay, storeDown: down, edge: batch.edge },
          down ? 'commit failed; retrying (the message stays unacknowledged)' : 'commit failed with the store up; the envelope is isolated after a few tries');
        // The envelope's own failure is retried almost at once (a unique-index race settles in milliseconds):
        // while it is tried, every other edge waits behind it on the same connection.
        await this.sleep(delay);
      }
    }
  }

  /** The database is away (retry) rather than refusing this envelope: a transient driver error, or no health. */
  private async storeDown(err: unknown): Promise<boolean> {
    if (errorCode(err) === 'ERR_STOPPING') return true;
    const cause = (err as { cause?: unknown })?.cause ?? err;
    if (isTransientDbError(cause) || isTransientDbError(err)) return true;
    // The database answered with a refusal of the data: it is there (no health round trip needed).
    if (isDataError(cause) || (cause as { code?: unknown })?.code === '23505') return false;
    const health = await this.store.health().catch(() => ({ ok: false }));
    return !health.ok;
  }

  /**
   * Writes the records one by one (each continues the cursor); a record the store refuses alone is written
   * as a dead item instead, which records it in dead_letters and still moves the cursor past it.
   */
  private async isolate(batch: IngestBatch): Promise<PipelineResult> {
    let total: PipelineResult | null = null;
    const isolated: IsolatedRecord[] = [];
    for (let i = 0; i < batch.items.length; i++) {
      const item = batch.items[i]!;
      const single = { ...batch, items: [item] };
      let r: WriteResult;
      try {
        r = await this.store.writeBatch(single);
      } catch (err) {
        if (await this.storeDown(err)) throw err;
        const reason = `refused by the store even alone: ${errorCode(err)} ${(err as Error).message}`.slice(0, 500);
        const dead: BatchItem = { seq: item.seq, ok: false, code: 'ERR_STORE_REJECTED', reason, payload: clip(safeText(item)) };
        r = await this.store.writeBatch({ ...batch, items: [dead] });
        isolated.push({ seq: item.seq, code: 'ERR_STORE_REJECTED', reason });
        this.counters.poisoned++;
        this.opts.logger.error({ edge: batch.edge, seq: item.seq, code: errorCode(err) }, 'record refused by the store even alone: dead-lettered, the edge goes on');
      }
      total = total === null ? { ...r, isolated } : merge(total, r);
      if (r.gap) {
        total.deferred = batch.items.length - i;
        break;
      }
    }
    return total ?? { ...(await this.store.writeBatch(batch)), isolated };
  }

  async deadLetter(records: readonly DeadLetterRecord[], opts: WriteOpts): Promise<void> {
    await this.withRetry(opts, () => this.store.deadLetter(records));
    this.counters.deadLetters += records.length;
  }

  private serial<T>(edge: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(edge) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    // The next write of this edge waits for this one to settle, success or not; the outcome itself goes
    // to this write's caller through `run`.
    const tail = run.then(() => undefined, () => undefined);
    this.tails.set(edge, tail);
    void tail.then(() => {
      if (this.tails.get(edge) === tail) this.tails.delete(edge);
    });
    return run;
  }

  private async withRetry<T>(opts: WriteOpts, fn: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({ initialMs: this.opts.retry.initialMs, maxMs: this.opts.retry.maxMs, jitter: 0.5 });
    for (;;) {
      if (this.stopping) throw new CodedError('ERR_STOPPING', 'ingest is stopping');
      try {
        return await fn();
      } catch (err) {
        this.counters.storeFailures++;
        if (!opts.retry || this.stopping) throw err;
        const delay = backoff.next();
        this.opts.logger.warn({ err: (err as Error).message, code: (err as { code?: string }).code, attempt: backoff.attempts, delayMs: delay },
          'commit failed; retrying (the message stays unacknowledged)');
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        handle: this.clock.setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      this.sleepers.add(entry);
    });
  }
}

function merge(a: PipelineResult, b: WriteResult): PipelineResult {
  const written = { ...a.written };
  for (const k of Object.keys(b.written) as Array<keyof typeof written>) written[k] += b.written[k];
  const refused = [...(a.refused ?? []), ...(b.refused ?? [])];
  return {
    ...a, upTo: Math.max(a.upTo, b.upTo), gap: a.gap || b.gap, written, duplicates: a.duplicates + b.duplicates, deadLettered: a.deadLettered + b.deadLettered,
    ...(refused.length > 0 ? { refused } : {}),
  };
}

function safeText(item: BatchItem): string {
  try {
    return JSON.stringify(item.ok ? item.msg : item) ?? '';
  } catch {
    // Past what JSON.stringify can walk (the poison itself may be that): the seq is what matters then.
    return `{"seq":${item.seq},"unserializable":true}`;
  }
}
