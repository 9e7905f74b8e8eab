/**
 * Between the transports (MQTT, HTTP) and the store: one envelope at a time per edge (a later batch of
 * the same edge waits for the earlier one's commit, or it would look like a gap), retries with backoff
 * while the database is away, and the counters for metrics.
 */
import { Backoff, CodedError, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { DeadLetterRecord, IngestBatch, Store, WriteResult } from './store/types.js';

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
}

export interface PipelineOptions {
  retry: { initialMs: number; maxMs: number };
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
  readonly counters: IngestCounters = { envelopes: 0, rowsWritten: 0, duplicates: 0, deadLetters: 0, gaps: 0, storeFailures: 0, commitMs: 0 };
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

  write(batch: IngestBatch, opts: WriteOpts): Promise<WriteResult> {
    return this.serial(batch.edge, () => this.withRetry(opts, async () => {
      const t0 = performance.now();
      const r = await this.store.writeBatch(batch);
      this.counters.commitMs += performance.now() - t0;
      return r;
    })).then((r) => {
      this.counters.envelopes++;
      this.counters.duplicates += r.duplicates;
      this.counters.deadLetters += r.deadLettered;
      if (r.gap) this.counters.gaps++;
      if (r.epoch === 'new') this.opts.logger.warn({ edge: batch.edge, epoch: batch.epoch }, 'edge outbox restarted under a new epoch (wiped or replaced): its records are stored after the old ones');
      if (r.epoch === 'stale') this.opts.logger.warn({ edge: batch.edge, epoch: batch.epoch }, 'envelope of an outbox epoch the edge has left: dead-lettered (ERR_EPOCH_STALE)');
      for (const n of Object.values(r.written)) this.counters.rowsWritten += n;
      this.opts.onCommitted?.(batch, r);
      return r;
    });
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
