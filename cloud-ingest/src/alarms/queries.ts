/** Reads for the alarm views (list, detail, SLA) and the audit write every transition shares. */
import { UUID_RE } from '@safe-community/contracts';
import type { Db, Tx } from '../store/db.js';
import type { AlarmAuditRow } from '../store/rows.js';
import { alarmClips } from '../evidence/alarm-clips.js';
import { validation } from './policy.js';
import { ALARM_COLUMNS, iso, toAlarmView, toDispatchView } from './rows.js';
import { SEVERITIES, type AlarmDetail, type AlarmFilter, type AlarmState, type AlarmView, type SlaRow } from './types.js';

const STATES: readonly AlarmState[] = ['open', 'acknowledged', 'dispatched', 'resolved', 'false_alarm'];

export async function audit(tx: Tx, alarmId: string, at: string, actor: string, action: string,
  from: AlarmState | null, to: AlarmState | null, detail?: Record<string, unknown>): Promise<void> {
  await tx.query(
    'INSERT INTO alarm_audit (alarm_id, at, actor, action, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)',
    [alarmId, at, actor, action, from, to, detail === undefined ? null : JSON.stringify(detail)],
  );
}

export async function lockAlarm(tx: Tx, id: string): Promise<AlarmView | undefined> {
  const row = (await tx.query(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1 FOR UPDATE`, [id])).rows[0];
  return row ? toAlarmView(row) : undefined;
}

export async function listAlarms(db: Db, f: AlarmFilter): Promise<AlarmView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown): void => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.sites !== '*') add('site = ANY(?::text[])', [...f.sites]);
  if (f.state?.length) {
    for (const s of f.state) if (!STATES.includes(s)) throw validation(`unknown state ${s}`);
    add('state = ANY(?::text[])', f.state);
  }
  if (f.severity?.length) {
    for (const s of f.severity) if (!(SEVERITIES as readonly string[]).includes(s)) throw validation(`unknown severity ${s}`);
    add('severity = ANY(?::text[])', f.severity);
  }
  if (f.site !== undefined) add('site = ?', f.site);
  if (f.device !== undefined) add('device = ?', f.device);
  if (f.type !== undefined) add('type = ?', f.type);
  if (f.before !== undefined) {
    if (Number.isNaN(Date.parse(f.before))) throw validation(`before is not a time: ${f.before}`);
    add('raised_at < ?::timestamptz', f.before);
  }
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw validation('limit must be an integer in 1..500');
  params.push(limit);
  const rows = (await db.query(
    `SELECT ${ALARM_COLUMNS} FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY raised_at DESC, id LIMIT $${params.length}`,
    params,
  )).rows;
  return rows.map(toAlarmView);
}

export async function loadDetail(db: Db | Tx, id: string): Promise<AlarmDetail | undefined> {
  const row = (await db.query(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1`, [id])).rows[0];
  if (!row) return undefined;
  const view = toAlarmView(row);
  const [comments, auditRows, evidence, dispatches] = [
    (await db.query('SELECT id, at, author, text FROM alarm_comments WHERE alarm_id = $1 ORDER BY id', [id])).rows,
    (await db.query<Omit<AlarmAuditRow, 'id' | 'alarm_id'>>('SELECT at, actor, action, from_state, to_state, detail FROM alarm_audit WHERE alarm_id = $1 ORDER BY id', [id])).rows,
    (await db.query('SELECT kind, ref FROM alarm_evidence WHERE alarm_id = $1 ORDER BY id', [id])).rows,
    (await db.query('SELECT * FROM alarm_dispatches WHERE alarm_id = $1 ORDER BY sent_at, id', [id])).rows,
  ];
  const refs = (k: string): string[] => evidence.filter((e) => e.kind === k).map((e) => String(e.ref));
  const events = refs('event');
  if (view.sourceEventId && !events.includes(view.sourceEventId)) events.unshift(view.sourceEventId);
  const snapshots = refs('snapshot');
  // A snapshot the edge attached to the triggering event counts as evidence too. Events and linkage records
  // are read within the alarm's site only: an alarm naming another site's event shows none of it (issue 12).
  const evIds = events.filter((e) => UUID_RE.test(e));
  if (evIds.length) {
    const snaps = (await db.query(`SELECT payload->>'snapshot' AS s FROM events WHERE id = ANY($1::uuid[]) AND site = $2 AND payload ? 'snapshot'`, [evIds, view.site])).rows;
    for (const s of snaps) if (s.s && !snapshots.includes(String(s.s))) snapshots.push(String(s.s));
    // The pictures the linkage took for this trigger (fire rule: cameras to preset, snapshot) arrive as
    // linkage.snapshot events naming the trigger; before issue 15 only the source event's own was read.
    const taken = (await db.query(
      `SELECT payload->>'ref' AS s FROM events WHERE kind = 'linkage.snapshot' AND site = $1 AND payload->>'triggerEventId' = ANY($2::text[]) ORDER BY time`,
      [view.site, evIds],
    )).rows;
    for (const s of taken) if (s.s && !snapshots.includes(String(s.s))) snapshots.push(String(s.s));
  }
  const linkIds = refs('linkage').filter((x) => UUID_RE.test(x));
  const linkages = (await db.query(
    `SELECT id, rule, status, time, finished_at, actions FROM linkage_executions
      WHERE site = $3 AND (id = ANY($1::uuid[]) OR trigger_event_id = ANY($2::uuid[])) ORDER BY time`,
    [linkIds, evIds, view.site],
  )).rows;
  const clips = await alarmClips(db, id, view.site, evIds);
  return {
    ...view,
    comments: comments.map((c) => ({ id: Number(c.id), at: iso(c.at), author: String(c.author), text: String(c.text) })),
    audit: auditRows.map((a) => ({ at: iso(a.at), actor: String(a.actor), action: String(a.action), from: a.from_state ?? null, to: a.to_state ?? null, detail: a.detail ?? null })),
    evidence: {
      snapshots,
      events,
      linkages: linkages.map((l) => ({ id: String(l.id), rule: String(l.rule), status: String(l.status), startedAt: iso(l.time), finishedAt: iso(l.finished_at), actions: l.actions as unknown[] })),
      clips,
    },
    dispatches: dispatches.map(toDispatchView),
  };
}

/** Per-site SLA figures over alarms raised in [from, to): time to acknowledge and to resolve, in seconds. */
export async function slaBySite(db: Db, f: { sites: readonly string[] | '*'; from?: string; to?: string }): Promise<SlaRow[]> {
  const params: unknown[] = [f.from ?? '1970-01-01T00:00:00Z', f.to ?? '9999-01-01T00:00:00Z'];
  let scope = '';
  if (f.sites !== '*') {
    params.push([...f.sites]);
    scope = `AND site = ANY($3::text[])`;
  }
  const ack = 'extract(epoch FROM acknowledged_at - raised_at)';
  const res = `extract(epoch FROM resolved_at - raised_at)`;
  const rows = (await db.query(
    `SELECT site, count(*) AS alarms, count(acknowledged_at) AS acknowledged,
            count(*) FILTER (WHERE state IN ('resolved','false_alarm')) AS resolved,
            avg(${ack}) AS ack_avg, percentile_cont(0.9) WITHIN GROUP (ORDER BY ${ack}) AS ack_p90,
            avg(${res}) FILTER (WHERE state IN ('resolved','false_alarm')) AS res_avg,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${res}) FILTER (WHERE state IN ('resolved','false_alarm')) AS res_p90
       FROM alarms WHERE raised_at >= $1 AND raised_at < $2 ${scope}
      GROUP BY site ORDER BY site`,
    params,
  )).rows;
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    site: String(r.site), alarms: Number(r.alarms), acknowledged: Number(r.acknowledged), resolved: Number(r.resolved),
    ackAvgSec: num(r.ack_avg), ackP90Sec: num(r.ack_p90), resolveAvgSec: num(r.res_avg), resolveP90Sec: num(r.res_p90),
  }));
}
