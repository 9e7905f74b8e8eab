/**
 * The durable side of the correlation rules, run inside a group-commit transaction: record the hits in
 * `rule_hits` and judge their windows again in SQL, under an advisory lock per (rule, site, group). The
 * in-memory windows decide first; this judgement is what raises the alarm, so a hit that another ingest
 * instance recorded (several instances share one broker subscription) still completes a window here.
 */
import type { Event } from '@safe-community/contracts';
import type { AlarmLifecycle } from '../alarms/service.js';
import type { Db, Tx } from '../store/db.js';
import { raiseAll, type Raised, type RuleRaise } from '../alarms/count-up.js';
import type { DoorForcedPerson, DoubleKnock } from './schema.js';
import type { HitRole, RuleWindows } from './windows.js';

export type { Raised } from '../alarms/count-up.js';

const buildingOf = (tags: Record<string, string> | undefined): string | undefined => tags?.building;
/** The alarm's device for a building-wide alarm: ids may not hold ':' (they are topic levels). */
export const buildingDevice = (b: string | undefined): string => (b ? `building.${b}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) : 'site');

/** One rule hit waiting for the group commit, with what its window needs. */
export interface PendingHit {
  rule: DoubleKnock | DoorForcedPerson;
  role: HitRole;
  event: Event;
  group: string;
  member: string;
  /** Cut-off of a prune of this rule due with this hit (ISO time), if any. */
  prune?: string;
}

/** The group of a knock (its building, or '' for the whole site) and the member it counts as. */
export function knockKey(r: DoubleKnock, e: Event): { group: string; member: string } {
  return { group: buildingOf(e.tags) ?? '', member: r.distinct === 'zone' ? (e.tags?.zone ?? e.device) : e.device };
}

/**
 * Records every hit of a flush and judges each one's window, in two statements whatever the flush holds:
 * the advisory locks of its windows (in key order, so two instances never wait on each other in a cycle),
 * then one insert whose RETURNING rows are judged against the stored hits and against the flush's own
 * earlier hits (lower ids: rows are numbered in insertion order), as if the hits had come one by one.
 */
async function judgeTx(tx: Tx, hits: PendingHit[]): Promise<Array<{ n: number; evs: string[] | null; member: string | null; ev: string | null }>> {
  const keys = [...new Set(hits.map((h) => `${h.rule.id}|${h.event.site}|${h.group}`))].sort();
  await tx.query('SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest($1::text[]) AS k', [keys]);
  const rows = (await tx.query<{ n: string | number | null; evs: string[] | null; member: string | null; ev: string | null }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::timestamptz[], $8::float8[])
         WITH ORDINALITY AS u(rule, site, group_key, role, member, event_id, at, window_s, ord)),
     h AS (
       INSERT INTO rule_hits (rule, site, group_key, role, member, event_id, at)
       SELECT rule, site, group_key, role, member, event_id, at FROM input ORDER BY ord
       RETURNING id, rule, site, group_key, role, member, event_id, at),
     x AS (SELECT n.*, i.window_s FROM (SELECT h.*, row_number() OVER (ORDER BY h.id) AS ord FROM h) n JOIN input i ON i.ord = n.ord),
     pool AS (
       SELECT r.id, r.rule, r.site, r.group_key, r.role, r.member, r.event_id, r.at FROM rule_hits r
        WHERE (r.rule, r.site, r.group_key) IN (SELECT rule, site, group_key FROM input)
          AND r.at BETWEEN (SELECT min(at) - make_interval(secs => max(window_s)) FROM input)
                       AND (SELECT max(at) + make_interval(secs => max(window_s)) FROM input)
       UNION ALL SELECT id, rule, site, group_key, role, member, event_id, at FROM h)
     SELECT x.ord, k.n, k.evs, o.member, o.ev FROM x
       LEFT JOIN LATERAL (
         SELECT count(DISTINCT p.member) AS n, array_agg(p.event_id::text) AS evs FROM pool p
          WHERE x.role = 'knock' AND p.role = 'knock' AND p.rule = x.rule AND p.site = x.site AND p.group_key = x.group_key
            AND p.id <= x.id AND p.at BETWEEN x.at - make_interval(secs => x.window_s) AND x.at + make_interval(secs => x.window_s)) k ON true
       LEFT JOIN LATERAL (
         SELECT p.member, p.event_id::text AS ev FROM pool p
          WHERE x.role <> 'knock' AND p.role = CASE x.role WHEN 'door' THEN 'person' ELSE 'door' END
            AND p.rule = x.rule AND p.site = x.site AND p.group_key = x.group_key AND p.id < x.id
            AND p.at BETWEEN x.at - make_interval(secs => x.window_s) AND x.at + make_interval(secs => x.window_s)
          ORDER BY abs(extract(epoch FROM p.at - x.at)) LIMIT 1) o ON true
      ORDER BY x.ord`,
    [hits.map((h) => h.rule.id), hits.map((h) => h.event.site), hits.map((h) => h.group), hits.map((h) => h.role), hits.map((h) => h.member),
      hits.map((h) => h.event.id), hits.map((h) => h.event.edgeTime), hits.map((h) => h.rule.windowSec)],
  )).rows;
  return rows.map((r) => ({ n: Number(r.n ?? 0), evs: r.evs ?? null, member: r.member ?? null, ev: r.ev ?? null }));
}

/**
 * A flush of the correlation rules: prunes that are due, every hit recorded and judged (two statements),
 * then one raise (or count-up) per completed window, in hit order, in the same transaction.
 */
export async function writeHitsTx(tx: Tx, alarms: AlarmLifecycle, hits: PendingHit[]): Promise<Raised[]> {
  const prunes = new Map<string, string>();
  for (const h of hits) if (h.prune) prunes.set(h.rule.id, h.prune);
  for (const [rule, before] of prunes) await tx.query('DELETE FROM rule_hits WHERE rule = $1 AND at < $2', [rule, before]);
  const judged = await judgeTx(tx, hits);
  const raises: RuleRaise[] = [];
  const which: number[] = [];
  for (let i = 0; i < hits.length; i++) {
    const { rule: r, role, event: e } = hits[i]!;
    const j = judged[i]!;
    const b = buildingOf(e.tags);
    const common = { site: e.site, edge: e.edge, type: r.alarm.type, severity: r.alarm.severity, message: r.alarm.message,
      origin: 'rule' as const, rule: r.id, sourceEventId: e.id, at: e.edgeTime };
    if (role === 'knock') {
      if (j.n < ((r as DoubleKnock).knocks ?? 2)) continue;
      raises.push({ ...common, device: buildingDevice(b), tags: b ? { building: b } : {},
        evidence: (j.evs ?? []).filter(Boolean).map((ref) => ({ kind: 'event' as const, ref })) });
    } else {
      if (j.member === null) continue;
      raises.push({ ...common, device: role === 'door' ? e.device : j.member, tags: { building: b ?? '' },
        evidence: j.ev ? [{ kind: 'event' as const, ref: j.ev }] : [] });
    }
    which.push(i);
  }
  const raised = await raiseAll(tx, alarms, raises);
  const out: Raised[] = new Array(hits.length).fill(undefined);
  which.forEach((i, k) => { out[i] = raised[k]; });
  return out;
}

/** Fills the in-memory windows from `rule_hits` dated at or after `since` (at start). */
export async function loadWindows(db: Db, windows: RuleWindows, since: string): Promise<number> {
  const rows = (await db.query<{ rule: string; site: string; group_key: string; role: string; member: string; ev: string | null; at: Date | string }>(
    `SELECT rule, site, group_key, role, member, event_id::text AS ev, at FROM rule_hits WHERE at >= $1 ORDER BY id`, [since])).rows;
  for (const r of rows) {
    windows.add(String(r.rule), String(r.site), String(r.group_key),
      { role: r.role as HitRole, member: String(r.member), eventId: r.ev == null ? '' : String(r.ev), at: new Date(r.at).getTime() });
  }
  return rows.length;
}
