/**
 * Evaluates the active rule set against each committed batch (`evaluate` / `onCommitted`, called by the
 * ingest after its commit). Non-matching records cost one Map lookup. A match is judged at once against
 * the rule's window in memory (windows.ts); its hit and alarm are then made durable in a group commit
 * shared with every other match queued meanwhile (group-commit.ts), where the window is judged again in
 * SQL across instances (hits-sql.ts). Window state lives in `rule_hits` (refilling memory at start) and
 * offline thresholds in `pending_timers`, so a restart loses nothing committed.
 */
import { createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { DeviceStatus, Event, LinkageExecution } from '@safe-community/contracts';
import type { AlarmLifecycle } from '../alarms/service.js';
import type { Tx } from '../store/db.js';
import { PersistentTimers, cancelTimer, scheduleTimer, type TimerHandler } from '../alarms/timers.js';
import type { AlarmView, RaiseAlarm } from '../alarms/types.js';
import type { CommittedBatch } from './batch.js';
import type { DeviceOffline, DoorForcedPerson, DoubleKnock, LinkageFailure, Rule, RuleSet } from './schema.js';
import { activeRuleSet, saveRuleSet } from './store.js';
import { isTransientDbError, retryDb } from '../store/transient.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { buildingDevice, knockKey, loadWindows, writeHitsTx, type PendingHit, type Raised } from './hits-sql.js';
import { RuleWindows } from './windows.js';

export const OFFLINE_TIMER = 'rule.offline';
/** How late a replayed event may arrive and still pair with its window's other hits. */
const REPLAY_GRACE_MS = 6 * 3600_000;
const PRUNE_EVERY_MS = 60_000;

export interface RuleEngineOptions {
  alarms: AlarmLifecycle;
  clock?: Clock;
  logger?: Logger;
  /** A rule set to install at start when it is newer than the stored one. */
  rules?: RuleSet;
  /** How often due offline timers are looked for, ms (default 1000). */
  pollMs?: number;
  /**
   * false: rule transactions commit without waiting for the WAL flush (`synchronous_commit = off`). The
   * flush is most of a match's cost; the price is that a database crash can drop the last few hundred ms
   * of rule hits and rule alarms (never the events, which the ingest commits durably). Default true.
   */
  durableCommit?: boolean;
  /**
   * A rule evaluation (or the taking in of edge alarms) that fails on a transient database error is tried
   * again this many times in all, waiting `initialMs`, then twice as long each time. Default 6 and 200 ms
   * (about 6 s in all). The feed is serial, so later batches wait: order is kept.
   */
  retry?: { attempts: number; initialMs: number };
  /**
   * How long a group commit waits from idle for more matches to share it, ms (default 0: it starts on the
   * next turn; matches arriving while a commit is in flight share the next one anyway).
   */
  groupCommitMs?: number;
}

/** A rule's verdict on one event, decided in memory before anything is written. */
export interface RuleMatch {
  rule: string;
  site: string;
  /** The alarm's device: the building for a double knock, the door for door + person. */
  device: string;
  type: string;
  eventId: string;
  /** The events that complete the window (the event itself included). */
  evidence: string[];
}

export interface Evaluation {
  /** Matches decided in memory, in event order. */
  matches: RuleMatch[];
  /** The alarms raised or counted up, once durable (the same as `onCommitted` returns). */
  durable: Promise<AlarmView[]>;
}

export interface RuleCounters { events: number; matched: number; raised: number; errors: number; retries: number; }

type KindHook = { rule: DoubleKnock; role: 'knock' } | { rule: DoorForcedPerson; role: 'door' | 'person' };

interface Compiled {
  version: number;
  byKind: Map<string, KindHook[]>;
  linkage: LinkageFailure[];
  offline: Array<{ rule: DeviceOffline; re: RegExp | undefined }>;
  byId: Map<string, Rule>;
}

const emptyCompiled = (): Compiled => ({ version: 0, byKind: new Map(), linkage: [], offline: [], byId: new Map() });
const forSite = (r: Rule, site: string): boolean => r.enabled !== false && (!r.sites || r.sites.includes(site));

export class RuleEngine {
  readonly counters: RuleCounters = { events: 0, matched: 0, raised: 0, errors: 0, retries: 0 };
  private stopped = false;
  private compiled: Compiled = emptyCompiled();
  private readonly pruned = new Map<string, number>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers: PersistentTimers;
  private readonly windows = new RuleWindows();
  private readonly commits: GroupCommit<PendingHit, Raised>;

  constructor(private readonly opts: RuleEngineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'rules' });
    this.commits = new GroupCommit({
      db: opts.alarms.db, write: (tx, hits) => writeHitsTx(tx, opts.alarms, hits), durable: opts.durableCommit !== false, windowMs: opts.groupCommitMs ?? 0,
      retry: opts.retry ?? { attempts: 6, initialMs: 200 },
      retrying: () => !this.stopped,
      onRetry: (err, attempt, delayMs) => {
        this.counters.retries++;
        this.log.warn({ rule: 'group-commit', err: (err as Error).message, code: (err as { code?: string }).code, attempt, delayMs }, 'rule commit failed on the database; retrying');
      },
    });
    this.timers = new PersistentTimers({
      db: opts.alarms.db, clock: this.clock, logger: this.log, pollMs: opts.pollMs ?? 1000,
      handlers: { [OFFLINE_TIMER]: this.offlineDue() },
    });
  }

  get version(): number {
    return this.compiled.version;
  }

  async start(): Promise<void> {
    let active = await activeRuleSet(this.opts.alarms.db);
    if (this.opts.rules && (!active || this.opts.rules.version > active.version)) {
      await saveRuleSet(this.opts.alarms.db, this.opts.rules, 'config', new Date(this.clock.now()).toISOString());
      active = await activeRuleSet(this.opts.alarms.db);
    }
    this.compiled = active ? compile(active.body) : emptyCompiled();
    // The windows as committed: every hit young enough that a prune has not dropped it yet.
    const longest = Math.max(0, ...[...this.compiled.byId.values()].map((r) => ('windowSec' in r ? r.windowSec * 1000 : 0)));
    this.windows.clear();
    await loadWindows(this.opts.alarms.db, this.windows, new Date(this.clock.now() - longest - REPLAY_GRACE_MS).toISOString());
    await this.sweepOffline();
    await this.timers.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.commits.idle();
    await this.timers.stop();
  }

  /** The group commit's figures: flushes, items, transaction and COMMIT time. */
  commitStats(): Readonly<GroupCommitStats> {
    return this.commits.stats;
  }

  /** Validates, stores as a new version, and makes it active. */
  async setRules(set: RuleSet, by: string): Promise<void> {
    await saveRuleSet(this.opts.alarms.db, set, by, new Date(this.clock.now()).toISOString());
    this.compiled = compile(set);
  }

  /** Runs the offline timers due on the engine's clock (the poll does this too). */
  runDue(): Promise<number> {
    return this.timers.runDue();
  }

  /** Feeds one committed batch through the rules; resolves with the alarms raised or counted up, once durable. */
  onCommitted(b: CommittedBatch): Promise<AlarmView[]> {
    return this.evaluate(b).durable;
  }

  /**
   * Judges one committed batch now, in memory, and queues its durable writes. Batches must be fed in
   * commit order; their writes keep that order. Errors are counted and logged, never thrown.
   */
  evaluate(b: CommittedBatch): Evaluation {
    const c = this.compiled;
    const matches: RuleMatch[] = [];
    const jobs: Array<Promise<AlarmView | AlarmView[] | undefined>> = [];
    if (b.alarms.length) {
      const closing = b.alarms.filter((a) => a.state === 'resolved' || a.state === 'false_alarm');
      jobs.push(this.commits.alone(() => this.guard('adopt', () => this.opts.alarms.adoptPending(closing))).then(() => undefined));
    }
    this.counters.events += b.events.length;
    for (const e of b.events) {
      const hooks = c.byKind.get(e.kind);
      if (!hooks) continue;
      for (const h of hooks) {
        if (!forSite(h.rule, e.site)) continue;
        this.counters.matched++;
        if (h.role !== 'knock' && !e.tags?.building) continue; // "same building" cannot be judged without a building tag
        const prune = this.pruneDue(h.rule.id, h.rule.windowSec * 1000);
        const m = h.role === 'knock' ? this.knockNow(h.rule, e) : this.doorPersonNow(h.rule, h.role, e);
        if (m) matches.push(m);
        const { group, member } = h.role === 'knock' ? knockKey(h.rule, e) : { group: e.tags!.building!, member: e.device };
        jobs.push(this.durably({ rule: h.rule, role: h.role, event: e, group, member, ...(prune ? { prune } : {}) }));
      }
    }
    if (c.linkage.length && (b.linkages.length || b.alarms.length)) jobs.push(this.commits.alone(() => this.linkageRules(c, b)));
    if (c.offline.length && b.statuses.length) jobs.push(this.commits.alone(() => this.guard('offline', () => this.statuses(b.statuses))).then(() => undefined));
    const durable = Promise.all(jobs).then((rs) => rs.flat().filter((v): v is AlarmView => v !== undefined));
    return { matches, durable };
  }

  /** The hit (and the alarm it completes) in the next group commit, with the rule's prune when one is due. */
  private async durably(hit: PendingHit): Promise<AlarmView | undefined> {
    try {
      return await this.finish(await this.commits.add(hit));
    } catch (err) {
      // One failing rule must not stop the others or the ingest; it is counted and logged with its code.
      this.counters.errors++;
      this.log.warn({ rule: hit.rule.id, err: (err as Error).message, code: (err as { code?: string }).code }, 'rule evaluation failed');
      return undefined;
    }
  }

  private async linkageRules(c: Compiled, b: CommittedBatch): Promise<AlarmView[]> {
    const out: AlarmView[] = [];
    for (const r of c.linkage) {
      for (const l of b.linkages) if (forSite(r, l.site)) out.push(...((await this.guard(r.id, () => this.linkageFailed(r, l))) ?? []));
      for (const a of b.alarms) {
        if (!forSite(r, a.site) || !(r.alarmTypes ?? ['linkage.failed']).includes(a.type) || a.state !== 'open') continue;
        const v = await this.guard(r.id, () => this.raise(r, { site: a.site, edge: a.edge, device: a.device, message: `${r.alarm.message}: ${a.message}`.slice(0, 512), sourceEventId: a.sourceEventId, tags: a.tags }));
        if (v) out.push(v);
      }
    }
    return out;
  }

  /** A knock into its window in memory: the alarm it completes, if any. */
  private knockNow(r: DoubleKnock, e: Event): RuleMatch | undefined {
    const { group, member } = knockKey(r, e);
    const at = Date.parse(e.edgeTime);
    const w = r.windowSec * 1000;
    this.windows.add(r.id, e.site, group, { role: 'knock', member, eventId: e.id, at });
    const win = this.windows.knocks(r.id, e.site, group, at - w, at + w);
    if (win.members < (r.knocks ?? 2)) return undefined;
    return { rule: r.id, site: e.site, device: buildingDevice(e.tags?.building), type: r.alarm.type, eventId: e.id, evidence: win.events };
  }

  /** A forced door or a person into the building's window in memory: the alarm it completes, if any. */
  private doorPersonNow(r: DoorForcedPerson, role: 'door' | 'person', e: Event): RuleMatch | undefined {
    const b = e.tags?.building;
    if (!b) return undefined;
    const at = Date.parse(e.edgeTime);
    const w = r.windowSec * 1000;
    this.windows.add(r.id, e.site, b, { role, member: e.device, eventId: e.id, at });
    const other = this.windows.nearest(r.id, e.site, b, role === 'door' ? 'person' : 'door', at, at - w, at + w);
    if (!other) return undefined;
    return { rule: r.id, site: e.site, device: role === 'door' ? e.device : other.member, type: r.alarm.type, eventId: e.id, evidence: [e.id, other.eventId] };
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    const { attempts, initialMs } = this.opts.retry ?? { attempts: 6, initialMs: 200 };
    let tries = 0;
    try {
      // A dropped connection between the batch's commit and this transaction must not lose the match:
      // the transaction rolled back, so running it again is safe.
      return await retryDb(() => {
        tries++;
        return fn();
      }, {
        attempts,
        delayMs: (attempt) => initialMs * 2 ** (attempt - 1),
        retryIf: (err) => isTransientDbError(err) && !this.stopped,
        onRetry: (err, attempt, delayMs) => {
          this.counters.retries++;
          this.log.warn({ rule: what, err: (err as Error).message, code: (err as { code?: string }).code, attempt, delayMs }, 'rule evaluation failed on the database; retrying');
        },
      });
    } catch (err) {
      // One failing rule must not stop the others or the ingest; it is counted and logged with its code.
      this.counters.errors++;
      this.log.warn({ rule: what, err: (err as Error).message, code: (err as { code?: string }).code, attempts: tries }, 'rule evaluation failed');
      return undefined;
    }
  }

  /** Raises (or counts up) the rule's alarm in its own transaction. */
  private async raise(r: Rule, a: Omit<RaiseAlarm, 'type' | 'severity' | 'message'> & { message?: string }, tx?: Tx): Promise<AlarmView> {
    const input: RaiseAlarm = { ...dropUndefined(a), type: r.alarm.type, severity: r.alarm.severity, message: a.message ?? r.alarm.message, origin: 'rule', rule: r.id };
    const run = async (t: Tx) => this.opts.alarms.raiseTx(t, input);
    const res = tx ? await run(tx) : await this.opts.alarms.db.tx(run);
    if (!tx) await this.opts.alarms.runAfter(res.after);
    this.counters.raised++;
    return res.view;
  }

  /**
   * Old hits are dropped by the service clock, not by the incoming event's time: an edge replaying after
   * an outage sends events out of order, and they must still find each other. At most once per rule every
   * PRUNE_EVERY_MS (old hits only cost memory and index space, not correctness); returns the cut-off
   * for `rule_hits` when a prune is due.
   */
  private pruneDue(rule: string, windowMs: number): string | undefined {
    const now = this.clock.now();
    if (now - (this.pruned.get(rule) ?? -Infinity) < PRUNE_EVERY_MS) return undefined;
    this.pruned.set(rule, now);
    const before = now - windowMs - REPLAY_GRACE_MS;
    this.windows.prune(rule, before);
    return new Date(before).toISOString();
  }

  private async finish(res: Raised): Promise<AlarmView | undefined> {
    if (!res) return undefined;
    await this.opts.alarms.runAfter(res.after);
    this.counters.raised++;
    return res.view;
  }

  private async linkageFailed(r: LinkageFailure, l: LinkageExecution): Promise<AlarmView[]> {
    if (l.status === 'confirmed' && l.actions.every((a) => a.status === 'confirmed')) return [];
    const failed = l.actions.filter((a) => a.status !== 'confirmed');
    const targets = failed.length ? failed.map((a) => ({ device: a.device, what: `${a.action} ${a.status} after ${a.attempts} attempt(s)` })) : [{ device: l.rule, what: l.status }];
    const out: AlarmView[] = [];
    for (const t of targets) {
      out.push(await this.raise(r, {
        site: l.site, edge: l.edge, device: t.device, sourceEventId: l.triggerEventId,
        message: `${r.alarm.message} (linkage ${l.rule}: ${t.what})`.slice(0, 512),
        evidence: [{ kind: 'linkage', ref: l.id }],
      }));
    }
    return out;
  }

  private async statuses(list: DeviceStatus[]): Promise<void> {
    await this.opts.alarms.db.tx(async (tx) => {
      for (const s of list) {
        for (const { rule, re } of this.compiled.offline) {
          if (!forSite(rule, s.site) || (re && !re.test(s.device))) continue;
          const key = `${rule.id}|${s.site}|${s.device}`;
          if (s.online) await cancelTimer(tx, OFFLINE_TIMER, key);
          else await scheduleTimer(tx, OFFLINE_TIMER, key, Date.parse(s.at) + rule.thresholdSec * 1000, { rule: rule.id, site: s.site, device: s.device, edge: s.edge, since: s.at });
        }
      }
    });
  }

  /**
   * Devices already offline in `device_status` when the engine starts (their status arrived while no
   * engine ran, or before this rule existed) get their timer too, unless one is pending or their alarm
   * is already active.
   */
  private async sweepOffline(): Promise<void> {
    if (!this.compiled.offline.length) return;
    const rows = (await this.opts.alarms.db.query<{ site: string; edge: string; device: string; at: Date }>(`SELECT site, edge, device, at FROM device_status WHERE NOT online`)).rows;
    if (!rows.length) return;
    await this.opts.alarms.db.tx(async (tx) => {
      for (const { rule, re } of this.compiled.offline) {
        for (const s of rows) {
          if (!forSite(rule, s.site) || (re && !re.test(s.device))) continue;
          const since = new Date(s.at).toISOString();
          await tx.query(
            `INSERT INTO pending_timers (kind, key, due_at, payload)
             SELECT $1, $2, $3, $4::jsonb
              WHERE NOT EXISTS (SELECT 1 FROM alarms WHERE site = $5 AND device = $6 AND type = $7 AND state IN ('open','acknowledged','dispatched'))
             ON CONFLICT (kind, key) DO NOTHING`,
            [OFFLINE_TIMER, `${rule.id}|${s.site}|${s.device}`, new Date(Date.parse(since) + rule.thresholdSec * 1000).toISOString(),
              JSON.stringify({ rule: rule.id, site: s.site, device: s.device, edge: s.edge, since }), s.site, s.device, rule.alarm.type],
          );
        }
      }
    });
  }

  /** An offline threshold passed: raise unless the device has reported since (a later status). */
  private offlineDue(): TimerHandler {
    return async (timer, tx) => {
      const p = timer.payload as { rule: string; site: string; device: string; edge?: string; since: string };
      const rule = this.compiled.byId.get(p.rule);
      if (!rule || rule.type !== 'device_offline' || rule.enabled === false) return;
      const st = (await tx.query<{ online: boolean; at: Date }>('SELECT online, at FROM device_status WHERE site = $1 AND device = $2', [p.site, p.device])).rows[0];
      if (st && (st.online === true || new Date(st.at).getTime() > Date.parse(p.since))) return;
      const res = await this.opts.alarms.raiseTx(tx, {
        site: p.site, device: p.device, ...(p.edge ? { edge: p.edge } : {}), type: rule.alarm.type, severity: rule.alarm.severity,
        message: `${rule.alarm.message} (offline since ${p.since})`.slice(0, 512), origin: 'rule', rule: rule.id,
      });
      this.counters.raised++;
      return res.after;
    };
  }
}

function compile(set: RuleSet): Compiled {
  const c = emptyCompiled();
  c.version = set.version;
  const hook = (kind: string, h: KindHook): void => {
    const list = c.byKind.get(kind) ?? [];
    list.push(h);
    c.byKind.set(kind, list);
  };
  for (const r of set.rules) {
    c.byId.set(r.id, r);
    if (r.enabled === false) continue;
    if (r.type === 'double_knock') for (const k of r.kinds) hook(k, { rule: r, role: 'knock' });
    else if (r.type === 'door_forced_person') {
      for (const k of r.doorKinds) hook(k, { rule: r, role: 'door' });
      for (const k of r.personKinds) hook(k, { rule: r, role: 'person' });
    } else if (r.type === 'linkage_failure') c.linkage.push(r);
    else c.offline.push({ rule: r, re: r.devicePattern ? new RegExp(r.devicePattern) : undefined });
  }
  return c;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

