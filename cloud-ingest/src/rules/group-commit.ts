/**
 * Group commit for the rules' durable writes: the hits and alarms of every match queued while one commit
 * is in flight go into the next transaction together, so they share one WAL flush instead of paying one
 * each (the flush was most of a match's cost, issue #19). Work runs strictly in the order it was queued;
 * a job that needs its own transactions (`alone`) runs between flushes, in its place.
 *
 * A flush that fails on a transient error is run again whole (it rolled back whole). One that fails on
 * anything else is split: each of its items runs in its own transaction, so one bad item fails alone.
 */
import type { Db, Tx } from '../store/db.js';
import { isTransientDbError, retryDb } from '../store/transient.js';

export interface GroupCommitOptions<P, R> {
  db: Db;
  /** Writes one flush's items (in queue order) in the shared transaction; one result per item, in order. */
  write(tx: Tx, items: P[]): Promise<R[]>;
  /** false: `SET LOCAL synchronous_commit = off` in each flush (no wait for the WAL flush). */
  durable: boolean;
  /** Wait this long after the first item before a flush starts from idle, ms (default 0: the next turn). */
  windowMs?: number;
  /** Items per transaction at most (default 500). */
  maxItems?: number;
  retry: { attempts: number; initialMs: number };
  /** Whether another try is still wanted (false once the owner is stopping). */
  retrying(): boolean;
  onRetry(err: unknown, attempt: number, delayMs: number): void;
}

export interface GroupCommitStats {
  flushes: number;
  items: number;
  /** Most items in one flush. */
  maxItems: number;
  /** Transactions from BEGIN to the end of COMMIT, ms, summed. */
  txMs: number;
  /** COMMIT round trips alone (the WAL flush, when durable), ms, summed. */
  commitMs: number;
}

interface Shared { kind: 'shared'; item: unknown; resolve(v: unknown): void; reject(e: unknown): void }
interface Alone { kind: 'alone'; run: () => Promise<unknown>; resolve(v: unknown): void; reject(e: unknown): void }
type Job = Shared | Alone;

export class GroupCommit<P, R> {
  readonly stats: GroupCommitStats = { flushes: 0, items: 0, maxItems: 0, txMs: 0, commitMs: 0 };
  private readonly queue: Job[] = [];
  private running: Promise<void> = Promise.resolve();
  /** Set while a drain loop runs; cleared by the loop itself in the same turn it sees the queue empty. */
  private draining = false;

  constructor(private readonly opts: GroupCommitOptions<P, R>) {}

  /** Writes `item` in the next shared transaction; resolves with its result once that has committed. */
  add(item: P): Promise<R> {
    return this.enqueue<R>((resolve, reject) => ({ kind: 'shared', item, resolve, reject }));
  }

  /** Runs `run` (which makes its own transactions) in queue order, between flushes. */
  alone<T>(run: () => Promise<T>): Promise<T> {
    return this.enqueue<T>((resolve, reject) => ({ kind: 'alone', run, resolve, reject }));
  }

  /** Resolves once everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.draining) await this.running;
  }

  private enqueue<T>(make: (resolve: (v: T) => void, reject: (e: unknown) => void) => Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(make(resolve as (v: T) => void, reject));
      if (!this.draining) {
        this.draining = true;
        this.running = this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      // Whatever the current turn still queues (the rest of the batch being evaluated) joins the first flush.
      const w = this.opts.windowMs ?? 0;
      await new Promise((r) => (w > 0 ? setTimeout(r, w) : setImmediate(r)));
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'alone') {
          this.queue.shift();
          await Promise.resolve().then(head.run).then(head.resolve, head.reject);
          continue;
        }
        const max = this.opts.maxItems ?? 500;
        let n = 0;
        while (n < this.queue.length && n < max && this.queue[n]!.kind === 'shared') n++;
        await this.flush(this.queue.splice(0, n) as Shared[]);
      }
    } finally {
      // In the same turn as the last look at the queue: a job queued from here on starts a new drain.
      this.draining = false;
    }
  }

  private async flush(items: Shared[]): Promise<void> {
    let results: R[];
    try {
      results = await retryDb(() => this.transaction(items), {
        attempts: this.opts.retry.attempts,
        delayMs: (attempt) => this.opts.retry.initialMs * 2 ** (attempt - 1),
        retryIf: (err) => isTransientDbError(err) && this.opts.retrying(),
        onRetry: (err, attempt, delayMs) => this.opts.onRetry(err, attempt, delayMs),
      });
    } catch (err) {
      // The database is away (past the retries) or this is the item's own failure: fail the item(s).
      if (items.length === 1 || isTransientDbError(err)) {
        for (const it of items) it.reject(err);
        return;
      }
      // Some item's own failure rolled the whole flush back: each one again on its own, so only it fails.
      for (const it of items) await this.flush([it]);
      return;
    }
    items.forEach((it, i) => it.resolve(results[i]));
  }

  private async transaction(items: Shared[]): Promise<R[]> {
    const t0 = performance.now();
    let bodyEnd = t0;
    const results = await this.opts.db.tx(async (tx) => {
      if (!this.opts.durable) await tx.query('SET LOCAL synchronous_commit = off');
      const out = await this.opts.write(tx, items.map((it) => it.item as P));
      bodyEnd = performance.now();
      return out;
    });
    const t1 = performance.now();
    const s = this.stats;
    s.flushes++;
    s.items += items.length;
    s.maxItems = Math.max(s.maxItems, items.length);
    s.txMs += t1 - t0;
    s.commitMs += t1 - bodyEnd;
    return results;
  }
}
