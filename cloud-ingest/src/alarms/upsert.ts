/**
 * The one write of an alarm row, for edge alarms as the ingest stores them and for the cloud's own (rules,
 * resident reports, the API): one active alarm per (site, device, type). A repeat counts up on the active
 * one (count + 1, last seen, highest severity) instead of adding a row; an id seen before whose alarm is no
 * longer active (an edge reopening its alarm after it was resolved) counts up on its old row and takes the
 * new state. Everything else is a new row. Evidence and a 'repeated' audit entry go in the same statement
 * when the caller asks for them, so the common case (a repeat) costs one round trip.
 *
 * A plain function over a transaction, so any writer (the envelope transaction, the lifecycle) calls it
 * inside its own transaction; count-up.ts is its batched form for the rules' group commit.
 */
import { higherSeverity } from '../store/severity-sql.js';
import type { Tx } from '../store/db.js';
import type { AlarmRow } from '../store/rows.js';
import { ALARM_COLUMNS } from './rows.js';
import type { AlarmCore } from './types.js';

/**
 * `id` is the id a new row gets (the edge's own alarm id, or a fresh one for the cloud's); `state` the state
 * of a new or reopened row (a repeat keeps the active alarm's); `count` the count of a new row (the edge's
 * own count; 1 for the cloud's).
 */
export interface AlarmUpsert extends AlarmCore {
  /** Raised (a new row) or seen again (a repeat). */
  at: string;
  sourceEventId: string | null;
  tags: Record<string, string> | null;
  /** True when the caller takes the new alarm in itself (incident, timer) in this transaction. */
  adopted: boolean;
  /** Set on a new or reopened row that arrives already closed (an edge reporting resolved). */
  resolvedAt: string | null;
  evidence?: ReadonlyArray<{ kind: string; ref: string; detail?: unknown }>;
  /** Who a repeat's 'repeated' audit entry names; no entry when absent. */
  repeatAuditActor?: string;
}

/** The alarm row as written, with whether this statement created it. */
export type UpsertedAlarm = AlarmRow & { inserted: boolean };

const ACTIVE = `state NOT IN ('resolved','false_alarm')`;

/**
 * What a repeat does to the active alarm's row (SET clause; SQL expressions for how many repeats, when, and
 * at which severity): it counts up, is seen last at the latest time, and keeps the higher severity. The
 * single upsert below and the batched count-up (count-up.ts) both write it.
 */
export function repeatSet(n: string, at: string, severity: string): string {
  return `count = alarms.count + ${n}, last_seen_at = GREATEST(alarms.last_seen_at, ${at}), severity = ${higherSeverity('alarms.severity', severity)}`;
}

const UPSERT_SQL = `WITH reopened AS (
    UPDATE alarms SET count = count + 1, state = $7, severity = $6, last_seen_at = GREATEST(last_seen_at, $8::timestamptz),
           resolved_at = $18::timestamptz
     WHERE id = $1 AND NOT EXISTS (
       SELECT 1 FROM alarms o WHERE o.site = $2 AND o.device = $4 AND o.type = $5 AND o.${ACTIVE} AND $7 NOT IN ('resolved','false_alarm'))
     RETURNING ${ALARM_COLUMNS}, false AS inserted),
  ins AS (
    INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, count, message, source_event_id, tags, origin, rule, adopted, resolved_at)
    SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::timestamptz, $8::timestamptz, $9::int,
           $10::text, $11::uuid, $12::jsonb, $13::text, $14::text, $15::boolean, $18::timestamptz
     WHERE NOT EXISTS (SELECT 1 FROM reopened)
    ON CONFLICT (site, device, type) WHERE ${ACTIVE} DO UPDATE
      SET ${repeatSet('1', 'EXCLUDED.last_seen_at', 'EXCLUDED.severity')}
    RETURNING ${ALARM_COLUMNS}, (xmax = 0) AS inserted),
  a AS (SELECT * FROM reopened UNION ALL SELECT * FROM ins),
  ev AS (
    INSERT INTO alarm_evidence (alarm_id, kind, ref, at, detail)
    SELECT a.id, u.k, u.r, $8::timestamptz, u.d FROM a, unnest($19::text[], $20::text[], $21::jsonb[]) AS u(k, r, d)
    ON CONFLICT (alarm_id, kind, ref) DO NOTHING),
  au AS (
    INSERT INTO alarm_audit (alarm_id, at, actor, action, from_state, to_state, detail)
    SELECT a.id, $8::timestamptz, $16::text, 'repeated', a.state, a.state, jsonb_build_object('count', a.count, 'severity', a.severity)
      FROM a WHERE NOT a.inserted AND $17::boolean)
  SELECT * FROM a`;

/**
 * Writes one alarm (see the file comment). The reopen step only applies when no other alarm of the same
 * (site, device, type) is active; when one is, the write counts up on that one, as a repeat.
 * The evidence's foreign key sees the new alarm row: RI checks run at the end of the statement.
 */
export async function upsertAlarm(tx: Tx, a: AlarmUpsert): Promise<UpsertedAlarm> {
  const evidence = a.evidence ?? [];
  const res = await tx.query<UpsertedAlarm>(UPSERT_SQL, [
    a.id, a.site, a.edge, a.device, a.type, a.severity, a.state, a.at, a.count, a.message, a.sourceEventId,
    a.tags === null ? null : JSON.stringify(a.tags), a.origin, a.rule, a.adopted, a.repeatAuditActor ?? null,
    a.repeatAuditActor !== undefined, a.resolvedAt,
    evidence.map((e) => e.kind), evidence.map((e) => e.ref), evidence.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
  ]);
  return res.rows[0]!;
}
