/**
 * Many alarms raised together (a rules group-commit flush), the batched form of the alarm upsert
 * (upsert.ts). Most repeat an alarm that is already active (the same building's detectors keep knocking):
 * those are counted up in one statement for the whole batch, with the same change to the row as the
 * upsert's repeat (`repeatSet`), their evidence, and one `repeated` audit entry per repeat, as `raiseTx`
 * would write them one by one. Only alarms not active yet go through `raiseTx` (a new alarm is taken in
 * with its incident, audit and escalation). One `raiseTx` per repeat was most of a flush's round trips in
 * the issue #19 measurements.
 */
import { SEVERITY_RANK, type Severity } from '@safe-community/contracts';
import type { AlarmLifecycle } from './service.js';
import type { Tx } from './db.js';
import { ALARM_COLUMNS, toAlarmView } from './rows.js';
import type { AlarmView, RaiseAlarm } from './types.js';
import { repeatSet } from './upsert.js';

export type Raised = { view: AlarmView; after: (() => Promise<void>) | undefined } | undefined;

export type RuleRaise = RaiseAlarm & { at: string; rule: string };

const RETURNED = ALARM_COLUMNS.split(',').map((c) => `alarms.${c.trim()}`).join(', ');
// Sent to the database as text, which cannot hold NUL: the unit separator cannot occur in an id or type.
const keyOf = (r: RuleRaise): string => `${r.site}\u001f${r.device}\u001f${r.type}`;

/** Raises (or counts up) each input in order; one result per input. */
export async function raiseAll(tx: Tx, alarms: AlarmLifecycle, inputs: RuleRaise[]): Promise<Raised[]> {
  if (inputs.length === 0) return [];
  const groups = new Map<string, number[]>();
  inputs.forEach((r, i) => {
    const k = keyOf(r);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const keys = [...groups.entries()].map(([k, idx]) => {
    const rs = idx.map((i) => inputs[i]!);
    const severity = rs.reduce<Severity>((s, r) => (SEVERITY_RANK[r.severity] > SEVERITY_RANK[s] ? r.severity : s), rs[0]!.severity);
    const at = rs.reduce((m, r) => (Date.parse(r.at) > Date.parse(m) ? r.at : m), rs[0]!.at);
    const refs = [...new Set(rs.flatMap((r) => [...(r.evidence ?? []).map((e) => e.ref), ...(r.sourceEventId ? [r.sourceEventId] : [])]))];
    return { key: k, first: rs[0]!, n: rs.length, severity, at, refs };
  });
  const ev = keys.flatMap((k) => k.refs.map((ref) => ({ key: k.key, ref })));
  const rows = (await tx.query(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::text[], $8::text[])
         AS u(k_site, k_device, k_type, k_severity, k_at, k_n, k_actor, k_key)),
     a AS (
       UPDATE alarms SET ${repeatSet('u.k_n', 'u.k_at', 'u.k_severity')}
         FROM u
        WHERE alarms.site = u.k_site AND alarms.device = u.k_device AND alarms.type = u.k_type AND alarms.state NOT IN ('resolved','false_alarm')
       RETURNING ${RETURNED}, u.k_n, u.k_at, u.k_actor, u.k_key),
     ev AS (
       INSERT INTO alarm_evidence (alarm_id, kind, ref, at, detail)
       SELECT a.id, 'event', e.ref, a.k_at, NULL FROM a JOIN unnest($9::text[], $10::text[]) AS e(k_key, ref) ON e.k_key = a.k_key
       ON CONFLICT (alarm_id, kind, ref) DO NOTHING),
     au AS (
       INSERT INTO alarm_audit (alarm_id, at, actor, action, from_state, to_state, detail)
       SELECT a.id, a.k_at, a.k_actor, 'repeated', a.state, a.state, jsonb_build_object('count', a.count - a.k_n + g, 'severity', a.severity)
         FROM a, generate_series(1, a.k_n) AS g)
     SELECT * FROM a`,
    [keys.map((k) => k.first.site), keys.map((k) => k.first.device), keys.map((k) => k.first.type), keys.map((k) => k.severity),
      keys.map((k) => k.at), keys.map((k) => k.n), keys.map((k) => k.first.raisedBy ?? `rule:${k.first.rule}`), keys.map((k) => k.key),
      ev.map((e) => e.key), ev.map((e) => e.ref)],
  )).rows as Array<Record<string, unknown>>;
  const counted = new Map(rows.map((r) => [String(r.k_key), toAlarmView(r)]));
  const out: Raised[] = new Array(inputs.length);
  for (const [k, idx] of groups) {
    const view = counted.get(k);
    if (view) {
      for (const i of idx) out[i] = { view, after: undefined };
      continue;
    }
    // No active alarm for this key yet: the first raise creates it (taken in), the rest count up on it.
    for (const i of idx) {
      const { view: v, after } = await alarms.raiseTx(tx, inputs[i]!);
      out[i] = { view: v, after };
    }
  }
  return out;
}
