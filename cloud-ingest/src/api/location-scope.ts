/**
 * Residents' positions outside the location-history route (issue 8: "only the resident's assigned team and
 * admins can read it"). One rule for every route that can hand out a position:
 *
 * - A position belongs to the resident wearing the device: the `care_residents` row whose `wearable` is the
 *   record's `device` at its site, and, for care records, the resident named by `tags.resident`. The caller
 *   sees it when they are an admin (of the site: the routes already scope sites), or when every resident so
 *   found has a team and the caller is in it. A wearable enrolled with no resident (and no resident tag
 *   that is enrolled) is personal data of someone unknown: admins only.
 * - Telemetry: `wearable.lat` / `wearable.lon` rows the caller may not see are left out in SQL
 *   (`telemetryLocationClause`), so limits and cursors page over what the caller gets.
 * - Events of kind `care.*` / `wearable.*` and alarms (any type carrying the last-fix tags: cloud rules copy
 *   a care alarm's tags) are returned whole except for the position: `payload.positions`, `payload.lat`,
 *   `payload.lon` and the tags `last_lat`, `last_lon`, `last_fix_at` are removed and
 *   `tags.location_hidden = 'true'` says so. Only records that held a position are marked.
 */
import { siteAllowed, type Actor, type Db } from '../auth/index.js';
import type { CareResident } from '../care/index.js';
import { FIX_TAGS, LOCATION_METRICS, withoutFix } from '../care/positions.js';
import type { Where } from './sql.js';

/** Set to 'true' on an event's or alarm's tags when a position was withheld from the caller. */
export const LOCATION_HIDDEN_TAG = 'location_hidden';
/** Payload keys of care and wearable events that hold positions. */
const PAYLOAD_KEYS = ['positions', 'lat', 'lon'];

/** Admins of the site, and members of the resident's guard team (the location-history rule). */
export function mayReadResident(actor: Actor, r: Pick<CareResident, 'site' | 'team'>): boolean {
  if (!siteAllowed(actor, r.site)) return false;
  if (actor.role === 'admin') return true;
  return r.team !== null && (actor.teams ?? []).includes(r.team);
}

/**
 * Restricts a telemetry query (FROM telemetry, unaliased) to the position rows the caller may see:
 * nothing for admins; for anyone else the position metrics only of wearables enrolled with a resident of
 * one of their teams at the row's site.
 */
export function telemetryLocationClause(actor: Actor, w: Where): void {
  if (actor.role === 'admin') return;
  w.params.push([...LOCATION_METRICS]);
  const metrics = `$${w.params.length}::text[]`;
  const teams = [...(actor.teams ?? [])];
  if (teams.length === 0) {
    w.raw(`metric <> ALL(${metrics})`);
    return;
  }
  w.params.push(teams);
  w.raw(`(metric <> ALL(${metrics}) OR EXISTS (SELECT 1 FROM care_residents cr
     WHERE cr.site = telemetry.site AND cr.wearable = telemetry.device AND cr.team = ANY($${w.params.length}::text[])))`);
}

interface Located { site: string; device: string; tags?: Record<string, string> | null }

/** For each record: may the caller see its position? One query for the whole page. */
async function visible(db: Db, actor: Actor, recs: readonly Located[]): Promise<boolean[]> {
  if (actor.role === 'admin') return recs.map(() => true);
  const teams = actor.teams ?? [];
  if (teams.length === 0 || recs.length === 0) return recs.map(() => false);
  const rows = await db.query<{ site: string; id: string; wearable: string; team: string | null }>(
    `SELECT site, id, wearable, team FROM care_residents
      WHERE site = ANY($1::text[]) AND (wearable = ANY($2::text[]) OR id = ANY($3::text[]))`,
    [[...new Set(recs.map((r) => r.site))], [...new Set(recs.map((r) => r.device))],
      [...new Set(recs.flatMap((r) => (r.tags?.resident ? [r.tags.resident] : [])))]]);
  const byWearable = new Map(rows.map((r) => [`${r.site}\u0000${r.wearable}`, r]));
  const byId = new Map(rows.map((r) => [`${r.site}\u0000${r.id}`, r]));
  return recs.map((rec) => {
    const found = [byWearable.get(`${rec.site}\u0000${rec.device}`), rec.tags?.resident ? byId.get(`${rec.site}\u0000${rec.tags.resident}`) : undefined]
      .filter((r): r is NonNullable<typeof r> => r !== undefined);
    return found.length > 0 && found.every((r) => mayReadResident(actor, r));
  });
}

const hasFixTags = (tags: Record<string, string> | null | undefined): boolean => !!tags && FIX_TAGS.some((k) => k in tags);

function withoutFixTags(tags: Record<string, string> | null | undefined): Record<string, string> {
  return { ...withoutFix(tags ?? {}), [LOCATION_HIDDEN_TAG]: 'true' };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const personalKind = (kind: string): boolean => kind.startsWith('care.') || kind.startsWith('wearable.');
const eventHasPosition = (e: { kind: string; tags?: Record<string, string> | null; payload?: unknown }): boolean =>
  personalKind(e.kind) && (hasFixTags(e.tags) || (isObject(e.payload) && PAYLOAD_KEYS.some((k) => k in (e.payload as Record<string, unknown>))));

/** Events as the caller may see them: positions of residents outside their teams removed and marked. */
export async function scopeEvents<E extends Located & { kind: string; payload?: unknown }>(db: Db, actor: Actor, events: E[]): Promise<E[]> {
  const idx = events.flatMap((e, i) => (eventHasPosition(e) ? [i] : []));
  if (idx.length === 0 || actor.role === 'admin') return events;
  const ok = await visible(db, actor, idx.map((i) => events[i]!));
  const out = [...events];
  idx.forEach((i, n) => {
    if (ok[n]) return;
    const e = events[i]!;
    let payload = e.payload;
    if (isObject(payload)) {
      const p: Record<string, unknown> = { ...payload };
      for (const k of PAYLOAD_KEYS) delete p[k];
      payload = p;
    }
    out[i] = { ...e, tags: withoutFixTags(e.tags), payload };
  });
  return out;
}

/** Alarms (views or details) as the caller may see them: last-fix tags removed and marked where not theirs. */
export async function scopeAlarms<A extends Located>(db: Db, actor: Actor, alarms: A[]): Promise<A[]> {
  const idx = alarms.flatMap((a, i) => (hasFixTags(a.tags) ? [i] : []));
  if (idx.length === 0 || actor.role === 'admin') return alarms;
  const ok = await visible(db, actor, idx.map((i) => alarms[i]!));
  const out = [...alarms];
  idx.forEach((i, n) => {
    if (!ok[n]) out[i] = { ...alarms[i]!, tags: withoutFixTags(alarms[i]!.tags) };
  });
  return out;
}

/** One alarm (the detail, or the answer to an action on it). */
export async function scopeAlarm<A extends Located>(db: Db, actor: Actor, alarm: A): Promise<A> {
  return (await scopeAlarms(db, actor, [alarm]))[0]!;
}
