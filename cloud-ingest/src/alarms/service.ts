/**
 * The alarm lifecycle: raise (deduplicated by site, device and type), acknowledge, assign, dispatch,
 * resolve or false alarm, comment; incidents, escalation timers and terminal dispatch around it. Every
 * change runs in one transaction with the alarm's row locked, so of two staff acting at once one wins and
 * the other gets ERR_ALARM_STATE; every change writes the audit trail in the same transaction.
 */
import { ID_RE, UUID_RE } from '@safe-community/contracts';
import { randomUUID } from 'node:crypto';
import { createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { Alarm as AlarmMsg } from '@safe-community/contracts';
import { CareEscalation, INCIDENT_ESCALATE_TIMER } from './care-escalation.js';
import { asDb, type DbSource } from './db.js';
import type { Db, Tx } from '../store/db.js';
import type { AlarmRow } from '../store/rows.js';
import { isConflict, retryDb } from '../store/transient.js';
import { Dispatches, terminalDispatchTopic } from './dispatch.js';
import { DEFAULT_CHANNELS, DEFAULT_ESCALATION, ESCALATE_TIMER, channelFor, escalationHandler, scheduleEscalation, type EscalationConfig } from './escalation.js';
import { attachToIncident, closeIncidentIfDone, listIncidents } from './incidents.js';
import { checkActor, inScope, isActive, notFound, requireRole, transition, validation, type Action } from './policy.js';
import { audit, listAlarms, loadDetail, lockAlarm, slaBySite } from './queries.js';
import { ALARM_COLUMNS, toAlarmView } from './rows.js';
import { PersistentTimers, cancelTimer } from './timers.js';
import { upsertAlarm } from './upsert.js';
import {
  SEVERITIES, type Actor, type AlarmDetail, type AlarmFilter, type AlarmService, type AlarmView, type DispatchView,
  type EscalationStep, type IncidentView, type Notifier, type Publish, type RaiseAlarm, type Severity, type SlaRow, type TerminalStep,
} from './types.js';

export interface AlarmServiceOptions {
  /** The store (its runner) or a raw pg Pool / PGlite. */
  db: DbSource;
  clock?: Clock;
  logger?: Logger;
  notifier?: Notifier;
  /** Publishes terminal dispatches (`terminals/<id>/dispatch`); without it terminals only poll. */
  publish?: Publish;
  /** Resolve and false alarm need an acknowledge first (default true). */
  requireAckBeforeResolve?: boolean;
  /** Alarms of one group key join the same open incident within this many seconds (default 600). */
  incidentWindowSec?: number;
  escalation?: Partial<Record<Severity, EscalationStep>>;
  /** Notification channel per escalation level (level 0 first). */
  channels?: readonly string[];
  /** How often due timers are looked for, ms (default 1000). */
  pollMs?: number;
  /**
   * How often edge alarms the ingest committed but nobody took in (the taking in failed past its retries)
   * are looked for, ms; 0 turns the sweep off. Default 30 000.
   */
  adoptSweepMs?: number;
}

const noopNotifier: Notifier = { notify: async () => undefined };
const userActor = (a: Actor): string => `user:${a.user}`;
type After = () => Promise<void>;

export class AlarmLifecycle implements AlarmService {
  readonly db: Db;
  readonly dispatches: Dispatches;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly notifier: Notifier;
  private readonly esc: EscalationConfig;
  private readonly windowMs: number;
  private readonly requireAck: boolean;
  private readonly timers: PersistentTimers;
  private readonly care: CareEscalation;
  private sweeping = false;
  private sweepTimer: unknown;
  private sweep: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AlarmServiceOptions) {
    this.db = asDb(opts.db);
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'alarms' });
    this.notifier = opts.notifier ?? noopNotifier;
    this.esc = { policy: { ...DEFAULT_ESCALATION, ...opts.escalation }, channels: opts.channels ?? DEFAULT_CHANNELS };
    this.windowMs = (opts.incidentWindowSec ?? 600) * 1000;
    this.requireAck = opts.requireAckBeforeResolve ?? true;
    this.dispatches = new Dispatches(this.db, this.clock);
    this.care = new CareEscalation(this.esc, this.clock, this.notifier, opts.publish);
    this.timers = new PersistentTimers({
      db: this.db, clock: this.clock, logger: this.log, pollMs: opts.pollMs ?? 1000,
      handlers: { [ESCALATE_TIMER]: escalationHandler(this.esc, this.clock, this.notifier), [INCIDENT_ESCALATE_TIMER]: this.care.handler() },
    });
  }

  async start(): Promise<void> {
    // Edge alarms committed while no lifecycle ran (or before a crash) are taken in now.
    await this.adoptPending();
    await this.timers.start();
    this.sweeping = true;
    this.armSweep();
  }

  async stop(): Promise<void> {
    this.sweeping = false;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweep;
    await this.timers.stop();
  }

  /** The safety net behind the ingest's own taking in: an edge alarm is never left without escalation. */
  private armSweep(): void {
    const every = this.opts.adoptSweepMs ?? 30_000;
    if (!this.sweeping || every <= 0) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep = this.adoptPending()
        .then((n) => { if (n > 0) this.log.warn({ alarms: n }, 'edge alarms taken in by the sweep (their first taking in had failed)'); })
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'alarm sweep failed'))
        .finally(() => this.armSweep());
    }, every);
  }

  /** Runs the escalation timers that are due on the service clock (the poll does this too). */
  runDue(): Promise<number> {
    return this.timers.runDue();
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  list(filter: AlarmFilter): Promise<AlarmView[]> {
    return listAlarms(this.db, filter);
  }

  async get(id: string, actor: Actor): Promise<AlarmDetail> {
    checkActor(actor);
    if (!UUID_RE.test(id)) throw notFound(id);
    const d = await loadDetail(this.db, id);
    if (!d || !inScope(actor, d.site)) throw notFound(id);
    requireRole(actor, 'read');
    return d;
  }

  incidents(filter: { sites: readonly string[] | '*'; open?: boolean }): Promise<IncidentView[]> {
    return listIncidents(this.db, filter);
  }

  sla(filter: { sites: readonly string[] | '*'; from?: string; to?: string }): Promise<SlaRow[]> {
    return slaBySite(this.db, filter);
  }

  async acknowledge(id: string, actor: Actor, note?: string): Promise<AlarmDetail> {
    return this.act(id, actor, 'acknowledge', async (tx, a, at) => {
      const to = transition(a.state, 'acknowledge', this.policy());
      await tx.query('UPDATE alarms SET state = $2, acknowledged_at = $3, acknowledged_by = $4 WHERE id = $1', [id, to, at, actor.user]);
      await cancelTimer(tx, ESCALATE_TIMER, id);
      await this.care.settle(tx, a.incidentId);
      await audit(tx, id, at, userActor(actor), 'acknowledged', a.state, to, note ? { note } : undefined);
    });
  }

  async assign(id: string, actor: Actor, assignee: string): Promise<AlarmDetail> {
    if (typeof assignee !== 'string' || assignee.length === 0 || assignee.length > 128) throw validation('assignee needs 1..128 characters');
    return this.act(id, actor, 'assign', async (tx, a, at) => {
      transition(a.state, 'assign', this.policy());
      await tx.query('UPDATE alarms SET assignee = $2 WHERE id = $1', [id, assignee]);
      await audit(tx, id, at, userActor(actor), 'assigned', a.state, a.state, { assignee, previous: a.assignee });
    });
  }

  async dispatch(id: string, actor: Actor, terminal: string, note?: string): Promise<AlarmDetail> {
    if (typeof terminal !== 'string' || !ID_RE.test(terminal)) throw validation(`not a terminal id: ${String(terminal)}`);
    if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) throw validation('note is at most 2000 characters');
    return this.act(id, actor, 'dispatch', async (tx, a, at) => {
      const to = transition(a.state, 'dispatch', this.policy());
      await tx.query(
        `UPDATE alarms SET state = $2, dispatched_at = COALESCE(dispatched_at, $3),
                acknowledged_at = COALESCE(acknowledged_at, $3), acknowledged_by = COALESCE(acknowledged_by, $4) WHERE id = $1`,
        [id, to, at, actor.user],
      );
      const dispatchId = randomUUID();
      await tx.query(
        `INSERT INTO alarm_dispatches (id, alarm_id, terminal, status, sent_by, note, sent_at) VALUES ($1, $2, $3, 'sent', $4, $5, $6)`,
        [dispatchId, id, terminal, actor.user, note ?? null, at],
      );
      await cancelTimer(tx, ESCALATE_TIMER, id);
      await this.care.settle(tx, a.incidentId);
      await audit(tx, id, at, userActor(actor), 'dispatched', a.state, to, { terminal, dispatchId, ...(note ? { note } : {}) });
      const view: AlarmView = { ...a, state: to };
      return () => this.publishDispatch(terminal, { v: 1, type: 'dispatch', dispatchId, note: note ?? null, sentAt: at, alarm: view });
    });
  }

  async resolve(id: string, actor: Actor, r: { falseAlarm?: boolean; note?: string }): Promise<AlarmDetail> {
    if (r?.note !== undefined && (typeof r.note !== 'string' || r.note.length > 2000)) throw validation('note is at most 2000 characters');
    return this.act(id, actor, 'resolve', async (tx, a, at) => {
      const to = transition(a.state, r?.falseAlarm ? 'false_alarm' : 'resolve', this.policy());
      await tx.query('UPDATE alarms SET state = $2, resolved_at = $3, resolved_by = $4, resolution_note = $5 WHERE id = $1',
        [id, to, at, actor.user, r?.note ?? null]);
      await cancelTimer(tx, ESCALATE_TIMER, id);
      await this.care.settle(tx, a.incidentId);
      await audit(tx, id, at, userActor(actor), to === 'resolved' ? 'resolved' : 'false_alarm', a.state, to, r?.note ? { note: r.note } : undefined);
      if (await closeIncidentIfDone(tx, a.incidentId, at)) {
        await audit(tx, id, at, 'system', 'incident.closed', to, to, { incidentId: a.incidentId });
      }
    });
  }

  async comment(id: string, actor: Actor, text: string): Promise<AlarmDetail> {
    if (typeof text !== 'string' || text.trim().length === 0 || text.length > 4000) throw validation('comment needs 1..4000 characters');
    return this.act(id, actor, 'comment', async (tx, a, at) => {
      await tx.query('INSERT INTO alarm_comments (alarm_id, at, author, text) VALUES ($1, $2, $3, $4)', [id, at, actor.user, text]);
      await audit(tx, id, at, userActor(actor), 'commented', a.state, a.state);
    });
  }

  async raise(input: RaiseAlarm): Promise<AlarmView> {
    checkRaise(input);
    const { view, after } = await this.db.tx((tx) => this.raiseTx(tx, input));
    await this.runAfter(after);
    return view;
  }

  /**
   * Raise inside the caller's transaction (cloud rules and their timers), so the rule state, the timer and
   * the alarm commit together. The caller runs `after` (the first notification) once it has committed.
   */
  async raiseTx(tx: Tx, input: RaiseAlarm): Promise<{ view: AlarmView; created: boolean; after: After | undefined }> {
    checkRaise(input);
    const at = input.at ?? this.now();
    const by = input.raisedBy ?? (input.rule ? `rule:${input.rule}` : 'api');
    const evidence = [...(input.evidence ?? []), ...(input.sourceEventId ? [{ kind: 'event' as const, ref: input.sourceEventId }] : [])];
    const row = await upsertAlarm(tx, {
      id: randomUUID(), site: input.site, edge: input.edge ?? null, device: input.device, type: input.type, severity: input.severity,
      state: 'open', at, count: 1, message: input.message, sourceEventId: input.sourceEventId ?? null, tags: input.tags ?? null,
      origin: input.origin ?? 'api', rule: input.rule ?? null, adopted: true, resolvedAt: null, evidence, repeatAuditActor: by,
    });
    const a = toAlarmView(row);
    if (row.inserted !== true) return { view: a, created: false, after: undefined };
    const after = await this.takeIn(tx, a, by, at);
    return { view: { ...a, incidentId: (await lockAlarm(tx, a.id))?.incidentId ?? null }, created: true, after };
  }

  /** Runs a post-commit side effect returned by raiseTx; failures are logged, never thrown. */
  async runAfter(f: After | undefined): Promise<void> {
    if (!f) return;
    try {
      await f();
    } catch (err) {
      // The change is committed; a failed notification or publish is logged, and the terminal can still poll.
      this.log.warn({ err: (err as Error).message }, 'alarm side effect failed after commit');
    }
  }

  /**
   * Takes in edge alarms the ingest committed: incident, audit entry, escalation timer, first
   * notification; and closes incidents of alarms the edge reported resolved. Safe to call again: an
   * alarm is taken in once (the `adopted` flag is set in the same transaction).
   */
  async adoptPending(closing: readonly AlarmMsg[] = []): Promise<number> {
    const afters: After[] = [];
    const n = await this.db.tx(async (tx) => {
      const rows = (await tx.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE NOT adopted ORDER BY raised_at LIMIT 1000 FOR UPDATE SKIP LOCKED`)).rows;
      const at = this.now();
      for (const r of rows) {
        const a = toAlarmView(r);
        if (isActive(a.state)) {
          const after = await this.takeIn(tx, a, `edge:${a.edge ?? 'unknown'}`, a.raisedAt);
          if (after) afters.push(after);
        } else {
          await audit(tx, a.id, at, `edge:${a.edge ?? 'unknown'}`, 'raised', null, a.state, { closedAtEdge: true });
        }
      }
      if (rows.length) await tx.query('UPDATE alarms SET adopted = true WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
      for (const m of closing) await this.closedAtEdge(tx, m, at);
      return rows.length;
    });
    for (const f of afters) await this.runAfter(f);
    return n;
  }

  /** Pending dispatches for a terminal's HTTP poll. */
  pendingDispatches(terminal: string): Promise<Array<DispatchView & { alarm: AlarmView }>> {
    return this.dispatches.pending(terminal);
  }

  /** A terminal reports accept, arrival or feedback on a dispatch. */
  terminalReport(dispatchId: string, terminal: string, step: TerminalStep, feedback?: string): Promise<DispatchView> {
    return this.dispatches.report(dispatchId, terminal, step, feedback);
  }

  private policy(): { requireAckBeforeResolve: boolean } {
    return { requireAckBeforeResolve: this.requireAck };
  }

  private async closedAtEdge(tx: Tx, m: AlarmMsg, at: string): Promise<void> {
    const row = (await tx.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1 FOR UPDATE`, [m.id])).rows[0]
      ?? (await tx.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE site = $1 AND device = $2 AND type = $3 ORDER BY resolved_at DESC NULLS LAST LIMIT 1 FOR UPDATE`,
        [m.site, m.device, m.type])).rows[0];
    if (!row) return;
    const a = toAlarmView(row);
    if (isActive(a.state)) return;
    await cancelTimer(tx, ESCALATE_TIMER, a.id);
    await this.care.settle(tx, a.incidentId);
    await audit(tx, a.id, at, `edge:${a.edge ?? m.edge ?? 'unknown'}`, a.state === 'resolved' ? 'resolved' : 'false_alarm', null, a.state, { atEdge: true });
    await closeIncidentIfDone(tx, a.incidentId, at);
  }

  /**
   * A new active alarm: incident, audit, escalation timer; the first notification after the commit. An
   * enrolled resident's alarm escalates with its incident, to the resident's own contacts.
   */
  private async takeIn(tx: Tx, a: AlarmView, by: string, at: string): Promise<After | undefined> {
    const incidentId = await attachToIncident(tx, { id: a.id, site: a.site, device: a.device, severity: a.severity, tags: a.tags, at: a.raisedAt }, this.windowMs);
    const resident = await this.care.residentOf(tx, a);
    if (resident) {
      await audit(tx, a.id, at, by, 'raised', null, a.state, { severity: a.severity, incidentId });
      return this.care.takeIn(tx, { ...a, incidentId }, incidentId, resident);
    }
    // The first call is named in the raise's own entry, so the alarm page can say who was called and when.
    await audit(tx, a.id, at, by, 'raised', null, a.state, { severity: a.severity, incidentId, channel: channelFor(this.esc, 0) });
    await tx.query('UPDATE alarms SET notifications = notifications + 1 WHERE id = $1', [a.id]);
    await scheduleEscalation(tx, this.esc, a, this.clock.now());
    const view: AlarmView = { ...a, incidentId };
    return () => this.notifier.notify(view, 0, channelFor(this.esc, 0));
  }

  private async act(id: string, actor: Actor, action: Action, fn: (tx: Tx, a: AlarmView, at: string) => Promise<After | void>): Promise<AlarmDetail> {
    checkActor(actor);
    if (typeof id !== 'string' || !UUID_RE.test(id)) throw notFound(String(id));
    // A staff action can meet an escalation timer run on the same alarm: each holds a row the other wants
    // (the alarm, the timer) and PostgreSQL aborts one. The action rolled back whole: it is run again.
    const after = await retryDb(() => this.db.tx(async (tx) => {
      const a = await lockAlarm(tx, id);
      // Another site's alarm answers "not found": its existence is not revealed.
      if (!a || !inScope(actor, a.site)) throw notFound(id);
      requireRole(actor, action);
      return fn(tx, a, this.now());
    }), { attempts: 4, delayMs: (attempt) => 5 * attempt, retryIf: isConflict });
    await this.runAfter(after ?? undefined);
    return (await loadDetail(this.db, id))!;
  }

  private async publishDispatch(terminal: string, body: Record<string, unknown>): Promise<void> {
    if (!this.opts.publish) return;
    await this.opts.publish(terminalDispatchTopic(terminal), JSON.stringify(body));
  }
}

function checkRaise(i: RaiseAlarm): void {
  if (!i || typeof i !== 'object') throw validation('alarm input must be an object');
  if (typeof i.site !== 'string' || !ID_RE.test(i.site)) throw validation('site must be an id');
  if (typeof i.device !== 'string' || !ID_RE.test(i.device)) throw validation('device must be an id');
  if (i.edge !== undefined && (typeof i.edge !== 'string' || !ID_RE.test(i.edge))) throw validation('edge must be an id');
  if (typeof i.type !== 'string' || !/^[a-z][a-z0-9_.]{0,63}$/.test(i.type)) throw validation('type must match ^[a-z][a-z0-9_.]*$');
  if (!SEVERITIES.includes(i.severity)) throw validation(`severity must be one of ${SEVERITIES.join(', ')}`);
  if (typeof i.message !== 'string' || i.message.length === 0 || i.message.length > 512) throw validation('message needs 1..512 characters');
  if (i.sourceEventId !== undefined && !UUID_RE.test(i.sourceEventId)) throw validation('sourceEventId must be a uuid');
  if (i.at !== undefined && Number.isNaN(Date.parse(i.at))) throw validation('at must be an ISO time');
  for (const e of i.evidence ?? []) {
    if (!['snapshot', 'event', 'linkage'].includes(e.kind) || typeof e.ref !== 'string' || e.ref.length === 0 || e.ref.length > 512) {
      throw validation('evidence needs kind snapshot|event|linkage and a ref');
    }
  }
}

export function createAlarmService(opts: AlarmServiceOptions): AlarmLifecycle {
  return new AlarmLifecycle(opts);
}

