/**
 * Escalation for elderly care (issue 8): a resident's incident is one thing to handle, so it escalates as
 * one. The first alarm of an episode notifies the resident's guard team; while any alarm of the incident
 * stays unacknowledged the team is notified again every `repeatSec` of the incident's severity, and at each
 * of `levelsAfterSec` the circle widens: level 1 adds the resident's family contacts (in the order the
 * residents file lists them), level 2 and up add the service channel of that level (e.g. the manager).
 * A later alarm of the same incident (a fall, then the SOS) joins the running escalation instead of
 * starting its own, so three signals are one set of calls. Escalation starts from the alarm's own raise
 * time: an alarm replayed by an edge that was cut off for an hour reaches the level it would have had.
 * The next step is one persisted timer per incident (`incident.escalate`), so a restart neither drops nor
 * doubles a call. Calls go to the Notifier; a guard team's calls also reach its terminals on the dispatch
 * channel (`terminals/<team>/call`).
 */
import { ID_RE } from '@safe-community/contracts';
import type { Clock } from '@safe-community/runtime';
import { findResident, type CareResident } from '../care/residents.js';
import type { Tx } from '../store/db.js';
import { channelFor, levelAt, nextDue, type EscalationConfig } from './escalation.js';
import { audit } from './queries.js';
import { ALARM_COLUMNS, toAlarmView } from './rows.js';
import { cancelTimer, scheduleTimer, type TimerHandler } from './timers.js';
import { terminalCallTopic } from './dispatch.js';
import { SEVERITIES, type AlarmView, type Notifier, type Publish } from './types.js';
import { severityRank } from '../store/severity-sql.js';

export const INCIDENT_ESCALATE_TIMER = 'incident.escalate';

/** Whom to call at a level: the guard team; from level 1 also the family; from level 2 the service's channel too. */
export function careChannels(r: Pick<CareResident, 'contacts'>, level: number, cfg: EscalationConfig): string[] {
  const guards = r.contacts.filter((c) => c.role === 'guard_team').map((c) => `guard_team:${c.team ?? c.name}`);
  const family = r.contacts.filter((c) => c.role === 'family').map((c) => `family:${c.name}`);
  const out = level === 0 && guards.length > 0 ? guards : [...guards, ...family];
  if (level >= 2) out.push(channelFor(cfg, level));
  return out;
}

type After = () => Promise<void>;

/** A type alias, so it is a plain record the persisted timer stores as its payload. */
type TimerPayload = { startedAt: string; site: string; resident: string };

export class CareEscalation {
  /** `publish` (the terminals' channel) also delivers each guard-team call to `terminals/<team>/call`. */
  constructor(private readonly cfg: EscalationConfig, private readonly clock: Clock, private readonly notifier: Notifier, private readonly publish?: Publish) {}

  /** The resident an alarm belongs to, when it carries a resident tag and the site enrolled that resident. */
  async residentOf(tx: Tx, a: Pick<AlarmView, 'site' | 'tags'>): Promise<CareResident | undefined> {
    const id = a.tags?.resident;
    return id ? findResident(tx, a.site, id) : undefined;
  }

  /**
   * A new alarm in a resident's incident: joins the running escalation, or starts one from the alarm's
   * raise time with the first calls (after the commit).
   */
  async takeIn(tx: Tx, a: AlarmView, incidentId: string, resident: CareResident): Promise<After | undefined> {
    // No row lock here: the caller holds the incident's row (attachToIncident), and a timer run locks the
    // incident only after taking its own timer row, so locking the timer too could deadlock. A timer run
    // waiting on the incident still has its row in our snapshot: the alarm joins, and that run calls for it.
    const running = (await tx.query<{ payload: TimerPayload }>(
      'SELECT payload FROM pending_timers WHERE kind = $1 AND key = $2', [INCIDENT_ESCALATE_TIMER, incidentId],
    )).rows[0];
    const now = this.clock.now();
    const at = new Date(now).toISOString();
    if (running) {
      await audit(tx, a.id, at, 'system', 'joined', a.state, a.state, { incidentId, escalatingSince: running.payload.startedAt });
      return undefined;
    }
    const payload: TimerPayload = { startedAt: a.raisedAt, site: a.site, resident: resident.id };
    return this.step(tx, incidentId, payload, [a], a.severity, now, at, resident);
  }

  /** Stops the incident's escalation once none of its alarms is still unacknowledged. */
  async settle(tx: Tx, incidentId: string | null): Promise<void> {
    if (!incidentId) return;
    const open = (await tx.query(`SELECT 1 FROM alarms WHERE incident_id = $1 AND state = 'open' LIMIT 1`, [incidentId])).rows.length;
    if (!open) await cancelTimer(tx, INCIDENT_ESCALATE_TIMER, incidentId);
  }

  handler(): TimerHandler {
    return async (timer, tx) => {
      const payload = timer.payload as TimerPayload;
      const incident = (await tx.query<{ severity: string }>('SELECT severity FROM incidents WHERE id = $1 FOR UPDATE', [timer.key])).rows[0];
      if (!incident) return;
      const open = (await tx.query(
        `SELECT ${ALARM_COLUMNS} FROM alarms WHERE incident_id = $1 AND state = 'open'
          ORDER BY ${severityRank('severity')} DESC, raised_at`, [timer.key],
      )).rows.map(toAlarmView);
      // Everyone acknowledged (or resolved) in the meantime: the calls end here.
      if (open.length === 0) return;
      const now = this.clock.now();
      const severity = SEVERITIES.includes(incident.severity as AlarmView['severity']) ? incident.severity as AlarmView['severity'] : open[0]!.severity;
      return this.step(tx, timer.key, payload, open, severity, now, new Date(now).toISOString());
    };
  }

  /** One round of calls for the incident's open alarms (the first is the lead), and the next timer. */
  private async step(tx: Tx, incidentId: string, payload: TimerPayload, open: AlarmView[], severity: AlarmView['severity'], now: number, at: string,
    known?: CareResident): Promise<After> {
    const policy = this.cfg.policy[severity];
    const started = Date.parse(payload.startedAt);
    const level = levelAt(policy, started, now);
    // A timer run reads the resident again: contacts may have changed since the incident began.
    const resident = known ?? await findResident(tx, payload.site, payload.resident);
    const channels = resident ? careChannels(resident, level, this.cfg) : [channelFor(this.cfg, level)];
    const before = Math.max(...open.map((a) => a.escalationLevel));
    const action = level > before ? 'escalated' : 'notified';
    await tx.query('UPDATE alarms SET escalation_level = GREATEST(escalation_level, $2), notifications = notifications + 1 WHERE id = ANY($1::uuid[])',
      [open.map((a) => a.id), level]);
    for (const a of open) await audit(tx, a.id, at, 'system', action, a.state, a.state, { incidentId, level, from: before, channels });
    const due = nextDue(policy, started, now);
    if (due === undefined) await cancelTimer(tx, INCIDENT_ESCALATE_TIMER, incidentId);
    else await scheduleTimer(tx, INCIDENT_ESCALATE_TIMER, incidentId, due, payload);
    const lead: AlarmView = { ...open[0]!, escalationLevel: Math.max(level, before), incidentId };
    return () => this.call(lead, channels, at, open.length);
  }

  /** Every channel is tried even when one fails; the failures are reported together (and logged by the caller). */
  private async call(lead: AlarmView, channels: readonly string[], at: string, openAlarms: number): Promise<void> {
    const tries: Array<Promise<unknown>> = [];
    for (const c of channels) {
      tries.push(this.notifier.notify(lead, lead.escalationLevel, c));
      // A guard team named by its team id has terminals; one known only by a contact name has not.
      const team = c.startsWith('guard_team:') ? c.slice('guard_team:'.length) : undefined;
      if (this.publish && team && ID_RE.test(team)) {
        const body = { v: 1, type: 'call', channel: c, level: lead.escalationLevel, incidentId: lead.incidentId, openAlarms, sentAt: at, alarm: lead };
        tries.push(Promise.resolve(this.publish(terminalCallTopic(team), JSON.stringify(body))));
      }
    }
    const failed = (await Promise.allSettled(tries)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new Error(`${failed.length} of ${tries.length} calls failed: ${failed.map((f) => (f.reason as Error)?.message).join('; ')}`);
  }
}
