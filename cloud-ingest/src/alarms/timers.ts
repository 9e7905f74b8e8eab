/**
 * Timers that survive a restart: each pending timer is a row in `pending_timers` (kind, key, due time,
 * payload) until it has run. A poll on the injected clock runs the due ones, each in its own transaction
 * with the row locked (`SKIP LOCKED`, so two instances never run one timer twice); the handler's database
 * work commits together with the timer's removal, and its side effects (notifications, publishes) run
 * only after that commit.
 */
import { Backoff, type Clock, type Logger } from '@safe-community/runtime';
import type { Db, Tx } from '../store/db.js';

export interface DueTimer {
  kind: string;
  key: string;
  dueAt: number;
  payload: Record<string, unknown>;
}

/** Database work for one timer; may return side effects to run after the commit. */
export type TimerHandler = (timer: DueTimer, tx: Tx) => Promise<(() => Promise<void>) | void>;

export interface TimerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The kinds this instance runs (each owner runs its own). */
  handlers: Record<string, TimerHandler>;
  /** How often to look for due timers, ms. */
  pollMs: number;
}

export async function scheduleTimer(tx: Tx, kind: string, key: string, dueAtMs: number, payload: Record<string, unknown> = {}): Promise<void> {
  await tx.query(
    `INSERT INTO pending_timers (kind, key, due_at, payload) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload`,
    [kind, key, new Date(dueAtMs).toISOString(), JSON.stringify(payload)],
  );
}

export async function cancelTimer(tx: Tx, kind: string, key: string): Promise<void> {
  await tx.query('DELETE FROM pending_timers WHERE kind = $1 AND key = $2', [kind, key]);
}

export class PersistentTimers {
  private handle: unknown;
  private running: Promise<number> | undefined;
  private stopped = true;
  /** Failed handlers are retried later, not in a tight loop (a poison timer must not spin). */
  private readonly failures = new Map<string, Backoff>();

  constructor(private readonly opts: TimerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.opts.clock.clearTimeout(this.handle);
    this.handle = undefined;
    await this.running?.catch(() => 0);
  }

  /** Runs every timer due by the clock's now; returns how many ran. Overlapping calls share one run. */
  runDue(): Promise<number> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    this.handle = this.opts.clock.setTimeout(() => {
      this.runDue()
        .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'timer poll failed'))
        .finally(() => this.arm());
    }, this.opts.pollMs);
  }

  private async drain(): Promise<number> {
    const kinds = Object.keys(this.opts.handlers);
    let ran = 0;
    // Bounded so one poll cannot hold the loop forever; the rest run on the next poll.
    for (let i = 0; i < 1000; i++) {
      const done = await this.runOne(kinds);
      if (done === 'none') break;
      if (done === 'ran') ran++;
    }
    return ran;
  }

  private async runOne(kinds: string[]): Promise<'none' | 'ran' | 'failed'> {
    const now = this.opts.clock.now();
    const box: { after?: () => Promise<void> } = {};
    let current: DueTimer | undefined;
    try {
      const found = await this.opts.db.tx(async (tx) => {
        const row = (await tx.query(
          `SELECT kind, key, due_at, payload FROM pending_timers WHERE kind = ANY($1::text[]) AND due_at <= $2
            ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [kinds, new Date(now).toISOString()],
        )).rows[0] as { kind: string; key: string; due_at: Date; payload: Record<string, unknown> } | undefined;
        if (!row) return false;
        current = { kind: row.kind, key: row.key, dueAt: new Date(row.due_at).getTime(), payload: row.payload ?? {} };
        await tx.query('DELETE FROM pending_timers WHERE kind = $1 AND key = $2', [row.kind, row.key]);
        const handler = this.opts.handlers[row.kind];
        if (handler) box.after = (await handler(current, tx)) ?? undefined;
        return true;
      });
      if (!found) return 'none';
    } catch (err) {
      if (!current) throw err;
      await this.postpone(current, err);
      return 'failed';
    }
    this.failures.delete(`${current!.kind}\u0000${current!.key}`);
    if (box.after) {
      try {
        await box.after();
      } catch (err) {
        this.opts.logger.warn({ kind: current!.kind, key: current!.key, err: (err as Error).message }, 'timer side effect failed');
      }
    }
    return 'ran';
  }

  /** The handler failed and its transaction rolled back: the timer stays, moved later with backoff. */
  private async postpone(t: DueTimer, err: unknown): Promise<void> {
    const id = `${t.kind}\u0000${t.key}`;
    let b = this.failures.get(id);
    if (!b) this.failures.set(id, (b = new Backoff({ initialMs: 1000, maxMs: 60_000, jitter: 0.2 })));
    const delay = b.next();
    this.opts.logger.warn({ kind: t.kind, key: t.key, err: (err as Error).message, retryInMs: delay }, 'timer failed; postponed');
    await this.opts.db.tx((tx) => tx.query('UPDATE pending_timers SET due_at = $3 WHERE kind = $1 AND key = $2',
      [t.kind, t.key, new Date(this.opts.clock.now() + delay).toISOString()]));
  }
}
