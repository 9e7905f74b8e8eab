/**
 * Storage upkeep on timers: day partitions created ahead (so rows never pile up in the default
 * partition), retention by dropping whole old partitions, and the rollups' refresh. The SQL functions
 * come from the migrations and have one name on both variants. On TimescaleDB its policies do this work
 * (chunks made on demand, retention and compression policies, continuous aggregates refreshed by their
 * own policies): apply_retention() only keeps the retention policies equal to the setting, and the
 * rollup timer does not run. Personal data past its own retention (plate text; residents' positions,
 * issue 8) is removed from rows that otherwise stay, on both variants. Video evidence clips past their
 * site's retention are deleted with their files (evidence/retention.ts).
 */
import { systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { SessionStore } from './auth/sessions.js';
import { FIX_TAGS, LOCATION_METRICS } from './care/positions.js';
import type { Store } from './store/types.js';
import type { EvidenceRetention } from './evidence/retention.js';

export interface MaintenanceOptions {
  partitionsAheadDays: number;
  /** 0 keeps everything. */
  retentionDays: number;
  /** Plate text is personal data: after this many days it is removed from vehicle events (0 keeps it). */
  plateRetentionDays: number;
  /** API audit rows (every write, every read of residents' data) older than this are deleted (0 or absent keeps them). */
  auditRetentionDays?: number;
  /**
   * Residents' positions are personal data (issue 8): after this many days wearable.lat/lon telemetry is
   * deleted and positions are stripped from care events and alarms (0 or absent keeps them).
   */
  locationRetentionDays?: number;
  /** Video evidence clips past their site's retention, and abandoned uploads (issue 16). */
  evidence?: EvidenceRetention;
  partitionIntervalSec: number;
  rollupRefreshSec: number;
  logger: Logger;
  clock?: Clock;
  /** Told when a step starts failing (once per failing spell): the service raises an alarm with it. */
  onStepFailed?: (step: string, reason: string) => void;
}


export interface LocationScrub { telemetry: number; events: number; alarms: number }

/** Several ingest instances run this; a transaction-scoped advisory lock lets one do each round. */
const PARTITION_LOCK = 0x73632d70; // 'sc-p'
const ROLLUP_LOCK = 0x73632d72; // 'sc-r'

export class Maintenance {
  private readonly timers = new Map<string, unknown>();
  private stopped = true;
  private running = new Set<Promise<unknown>>();
  private readonly failures = new Map<string, string>();
  private readonly clock: Clock;

  constructor(private readonly store: Store, private readonly opts: MaintenanceOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Partitions first, before data of today arrives; the rollups' first fill can wait for the timer.
    await this.guard('partitions', () => this.runPartitions());
    this.every(this.opts.partitionIntervalSec, 'partitions', () => this.runPartitions());
    // TimescaleDB's continuous aggregates are refreshed by their own policies (migration 0080).
    if (!this.store.timescale) this.every(this.opts.rollupRefreshSec, 'rollups', () => this.step('rollups', () => this.refreshRollups(), 0));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  /**
   * One upkeep round: partitions created, retention (plain: drops the partitions past it; TimescaleDB: sets
   * its retention policies, `dropped` counts the policies changed; retention 0 also runs, so TimescaleDB's
   * policies are removed when it is turned off), plate, location and audit scrubbing, and spent sign-in
   * sessions, each run and failing on its own (issue 13: a failing partition step used to stop the location
   * retention behind it). Returns what the partition steps did (0 for a step that failed).
   */
  async runPartitions(): Promise<{ created: number; dropped: number }> {
    const made = await this.step('partitions', () => this.createPartitions(), 0);
    const dropped = await this.step('retention', () => this.applyRetention(), 0);
    if (made > 0 || dropped > 0) {
      if (this.store.timescale) this.opts.logger.info({ retentionDays: this.opts.retentionDays, policies: dropped }, 'TimescaleDB retention policies set');
      else this.opts.logger.info({ created: made, dropped }, 'day partitions maintained');
    }
    if (this.opts.plateRetentionDays > 0) await this.step('plates', () => this.scrubPlates(), 0);
    if ((this.opts.locationRetentionDays ?? 0) > 0) await this.step('location retention', () => this.scrubLocations(), null);
    if ((this.opts.auditRetentionDays ?? 0) > 0) await this.step('audit retention', () => this.pruneAudit(), 0);
    if (this.opts.evidence) {
      const evidence = this.opts.evidence;
      await this.step('evidence retention', () => evidence.run(), null);
    }
    // Browser sessions and sign-in links that can no longer be used (expired, revoked, spent).
    await this.step('sessions', () => new SessionStore(this.store).purge(), 0);
    return { created: made, dropped };
  }

  /** Steps whose last run failed, with the reason (for /health). */
  failing(): Record<string, string> {
    return Object.fromEntries(this.failures);
  }

  private async createPartitions(): Promise<number> {
    const rows = await this.store.query<{ n: number | null }>(
      `SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - 1, $2::int) END AS n`,
      [PARTITION_LOCK, this.opts.partitionsAheadDays + 2]);
    return rows[0]?.n ?? 0;
  }

  private async applyRetention(): Promise<number> {
    const r = await this.store.query<{ n: number | null }>(
      'SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN apply_retention($2::int) END AS n',
      [PARTITION_LOCK, this.opts.retentionDays]);
    return r[0]?.n ?? 0;
  }

  /** Runs one step; a failure is logged, remembered for health and reported once per failing spell. */
  private async step<T, F>(name: string, fn: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      const r = await fn();
      if (this.failures.delete(name)) this.opts.logger.info({ step: name }, 'storage maintenance step recovered');
      return r;
    } catch (err) {
      const reason = `${(err as { code?: string }).code ?? 'ERR'}: ${(err as Error).message}`.slice(0, 300);
      const first = !this.failures.has(name);
      this.failures.set(name, reason);
      this.opts.logger.warn({ err: (err as Error).message, step: name }, 'storage maintenance step failed; the other steps go on');
      if (first) {
        try {
          this.opts.onStepFailed?.(name, reason);
        } catch (cbErr) {
          this.opts.logger.warn({ err: (cbErr as Error).message, step: name }, 'maintenance failure report failed');
        }
      }
      return fallback;
    }
  }

  /** Deletes API audit rows past the audit retention; returns how many. */
  async pruneAudit(days = this.opts.auditRetentionDays ?? 0): Promise<number> {
    if (days <= 0) return 0;
    const rows = await this.store.query<{ n: number }>(
      `WITH gone AS (DELETE FROM api_audit WHERE at < now() - make_interval(days => $1::int) RETURNING 1) SELECT count(*)::int AS n FROM gone`, [days]);
    const n = rows[0]?.n ?? 0;
    if (n > 0) this.opts.logger.info({ rows: n }, 'API audit rows past retention deleted');
    return n;
  }

  /** Removes plate text from vehicle events older than the plate retention; the event itself stays. */
  async scrubPlates(): Promise<number> {
    const rows = await this.store.query<{ n: number }>(
      `WITH scrubbed AS (
         UPDATE events SET payload = (payload - 'plate') || '{"plate_removed": true}'::jsonb
          WHERE kind LIKE 'vehicle.%' AND payload ? 'plate' AND time < now() - make_interval(days => $1::int)
         RETURNING 1)
       SELECT count(*)::int AS n FROM scrubbed`, [this.opts.plateRetentionDays]);
    const n = rows[0]?.n ?? 0;
    if (n > 0) this.opts.logger.info({ events: n }, 'plate text past retention removed');
    return n;
  }

  /**
   * Removes residents' positions older than the location retention: wearable.lat/lon telemetry rows are
   * deleted (plain DELETE: works on partitions and on hypertables); care events lose `payload.positions`
   * and the last-fix tags (marked `positions_removed`); wearable events (wearable.sos, wearable.fall…) lose
   * their `lat`/`lon` (marked `position_removed`); care alarms lose the last-fix tags once last seen before
   * the cutoff. Events and alarms themselves stay. Several instances may run it at once: each statement is
   * idempotent, so the worst case is the counts split between them.
   */
  async scrubLocations(days = this.opts.locationRetentionDays ?? 0): Promise<LocationScrub> {
    if (days <= 0) return { telemetry: 0, events: 0, alarms: 0 };
    const count = async (sql: string, params: unknown[]): Promise<number> => (await this.store.query<{ n: number }>(sql, params))[0]?.n ?? 0;
    const cutoff = 'now() - make_interval(days => $1::int)';
    const telemetry = await count(
      `WITH gone AS (DELETE FROM telemetry WHERE metric = ANY($2::text[]) AND time < ${cutoff} RETURNING 1)
       SELECT count(*)::int AS n FROM gone`, [days, [...LOCATION_METRICS]]);
    const care = await count(
      `WITH scrubbed AS (
         UPDATE events SET
           payload = CASE WHEN payload ? 'positions' THEN (payload - 'positions') || '{"positions_removed": true}'::jsonb ELSE payload END,
           tags = tags - $2::text[]
          WHERE kind LIKE 'care.%' AND time < ${cutoff}
            AND (payload ? 'positions' OR COALESCE(tags ?| $2::text[], false))
         RETURNING 1)
       SELECT count(*)::int AS n FROM scrubbed`, [days, FIX_TAGS]);
    const wearable = await count(
      `WITH scrubbed AS (
         UPDATE events SET payload = (payload - 'lat' - 'lon') || '{"position_removed": true}'::jsonb
          WHERE kind LIKE 'wearable.%' AND time < ${cutoff} AND (payload ? 'lat' OR payload ? 'lon')
         RETURNING 1)
       SELECT count(*)::int AS n FROM scrubbed`, [days]);
    const alarms = await count(
      `WITH scrubbed AS (
         UPDATE alarms SET tags = tags - $2::text[]
          WHERE type LIKE 'care.%' AND last_seen_at < ${cutoff} AND COALESCE(tags ?| $2::text[], false)
         RETURNING 1)
       SELECT count(*)::int AS n FROM scrubbed`, [days, FIX_TAGS]);
    const r = { telemetry, events: care + wearable, alarms };
    if (r.telemetry > 0 || r.events > 0 || r.alarms > 0) this.opts.logger.info(r, 'residents\' positions past retention removed');
    return r;
  }

  /** Refreshes the per-minute and per-hour rollups (a no-op on TimescaleDB, whose policies do it). */
  async refreshRollups(): Promise<number> {
    const r = await this.store.query<{ n: number | null }>(
      'SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN refresh_rollups() END AS n', [ROLLUP_LOCK]);
    return r[0]?.n ?? 0;
  }

  private every(sec: number, what: string, fn: () => Promise<unknown>): void {
    const tick = (): void => {
      if (this.stopped) return;
      const run = this.guard(what, fn).finally(() => {
        this.running.delete(run);
        // Rescheduled after the run ends, so a slow round never overlaps the next.
        if (!this.stopped) this.timers.set(what, this.clock.setTimeout(tick, sec * 1000));
      });
      this.running.add(run);
    };
    this.timers.set(what, this.clock.setTimeout(tick, sec * 1000));
  }

  private async guard(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // A failed round is retried on the next tick; the ingest itself does not depend on it.
      this.opts.logger.warn({ err: (err as Error).message, what }, 'storage maintenance failed');
    }
  }
}
