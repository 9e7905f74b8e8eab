/**
 * Elderly care (issue 8, item 6): each site's residents file, and a resident's location history.
 *
 * Privacy: "location history kept per a retention setting; only the resident's assigned team and admins
 * can read it". So a resident is visible to admins (of the site) and to members of the resident's guard
 * team (`Actor.teams`), whatever their role; to anyone else, security staff of the same site included, the
 * resident answers 404 ERR_NOT_FOUND exactly as an unknown id does (existence not revealed, as for alarms
 * of other sites). Positions are read from telemetry (`wearable.lat` / `wearable.lon` of the resident's
 * wearable), never further back than the retention window nor than the resident's consent; a resident whose
 * consent scope lacks `location` has no history to read (an empty list with `locationConsent: false`).
 *
 * Reads of personal data are audited like writes: every request to these GET routes, allowed or refused,
 * writes an `api_audit` row (actor, target site/resident, status, and the range read) before the answer
 * goes out. The PUT is audited by the API's own write audit (audit.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CodedError, errorCode, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { actorOf, requirePermission, siteAllowed, type Actor, type Db } from '../auth/index.js';
import type { Db as TxDb } from '../store/db.js';
import { findResident, listResidents, saveResidents, type CareResident } from '../care/index.js';
import { writeAudit } from './audit.js';
import { mayReadResident } from './location-scope.js';
import { Id, Limit, Timestamp } from './schemas.js';
import { iso } from './sql.js';

/** Telemetry metrics of a wearable's fixes (the device metric names `<kind>.<name>`). */
const LAT = 'wearable.lat';
const LON = 'wearable.lon';
const DAY_MS = 86_400_000;

export interface CareRoutesOptions {
  /** Residents are saved in one transaction: the alarms module's Db over the store's runner. */
  db: TxDb;
  /** Where the read audit rows go (the store). */
  auditDb: Db;
  /** The location history answers nothing older than this many days (0: no bound but consent). */
  locationRetentionDays: number;
  clock?: Clock;
  logger: Logger;
}

const SiteParams = Type.Object({ site: Id }, { additionalProperties: false });
const ResidentParams = Type.Object({ site: Id, id: Id }, { additionalProperties: false });
const LocationQuery = Type.Object({
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  limit: Type.Optional(Limit),
}, { additionalProperties: false });

// Admins of the site, and members of the resident's guard team: the one rule, shared with the routes that
// hide positions from everyone else (location-scope.ts).
export { mayReadResident };

/** The resident as a caller may see them: contacts' phone numbers only for admins and the resident's team. */
function view(r: CareResident, actor: Actor) {
  const phones = mayReadResident(actor, r);
  return {
    site: r.site, id: r.id, name: r.name, wearable: r.wearable, building: r.building, unit: r.unit, team: r.team,
    contacts: r.contacts.map((c) => (phones ? { ...c } : { name: c.name, role: c.role, ...(c.team !== undefined ? { team: c.team } : {}) })),
    consent: r.consent,
    updatedAt: r.updatedAt, updatedBy: r.updatedBy,
  };
}

const notFound = (site: string, id: string): CodedError => new CodedError('ERR_NOT_FOUND', `no resident ${id} at site ${site}`);

export function careRoutes(fastify: FastifyInstance, opts: CareRoutesOptions): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const clock = opts.clock ?? systemClock;
  // What a read returned, for its audit row (set by the handler; a refused read has only the target).
  const readDetail = new WeakMap<FastifyRequest, Record<string, unknown>>();

  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    // Writes are recorded by the API's write audit; HEAD runs the GET handler, so it counts as a read.
    if (req.method !== 'GET' && req.method !== 'HEAD') return payload;
    const p = (req.params ?? {}) as { site?: string; id?: string };
    const status = reply.statusCode;
    const code = status >= 400 && typeof payload === 'string' ? /"code":"([A-Z0-9_]+)"/.exec(payload)?.[1] ?? null : null;
    try {
      await writeAudit(opts.auditDb, {
        actor: req.actor?.user ?? null,
        role: req.actor?.role ?? null,
        requestId: String(req.id),
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0] ?? '',
        target: p.id !== undefined ? `${p.site}/${p.id}` : p.site ?? null,
        status,
        code,
        detail: { read: true, ...readDetail.get(req) },
      });
    } catch (err) {
      // As for writes: the answer stands; the missing row is an error in the log.
      opts.logger.error({ err: (err as Error).message, reqId: req.id, route: req.routeOptions.url }, 'read audit row not written');
    }
    return payload;
  });

  app.put('/sites/:site/residents', {
    schema: {
      tags: ['care'], summary: 'Replace the site\'s residents file (admin); residents not in the file are removed',
      params: SiteParams,
      // The file's own schema (contracts ResidentsFile) is checked by the care module, so its errors carry
      // the same codes and key names as on the edge (ERR_CONFIG, ERR_CARE_RESIDENTS).
      body: Type.Object({}, { additionalProperties: true, description: 'the residents file (contracts ResidentsFile) as JSON' }),
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    requirePermission(actor, 'admin');
    const { site } = req.params;
    if (!siteAllowed(actor, site)) throw new CodedError('ERR_NOT_FOUND', `no site ${site}`);
    try {
      return await saveResidents(opts.db, site, req.body, actor.user, new Date(clock.now()).toISOString());
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ERR_CONFIG' || code === 'ERR_CARE_RESIDENTS') {
        return reply.code(400).send({ code, message: (err as Error).message, requestId: req.id });
      }
      throw err;
    }
  });

  app.get('/sites/:site/residents', {
    schema: {
      tags: ['care'], params: SiteParams,
      summary: 'The site\'s residents: all for admins, those of the caller\'s guard teams for everyone else',
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { site } = req.params;
    // Another site reads like a site without residents (no leak), as the other lists do.
    if (!siteAllowed(actor, site)) return { residents: [] };
    const teams = actor.role === 'admin' ? undefined : actor.teams ?? [];
    const rows = teams !== undefined && teams.length === 0 ? [] : await listResidents(opts.db, { sites: [site], ...(teams ? { teams } : {}) });
    readDetail.set(req, { residents: rows.length });
    return { residents: rows.map((r) => view(r, actor)) };
  });

  app.get('/sites/:site/residents/:id/locations', {
    schema: {
      tags: ['care'], params: ResidentParams, querystring: LocationQuery,
      summary: 'A resident\'s position history, newest first (admins and the resident\'s guard team; 404 for anyone else)',
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { site, id } = req.params;
    const q = req.query;
    const asked = { site, resident: id, ...(q.from ? { askedFrom: q.from } : {}), ...(q.to ? { askedTo: q.to } : {}) };
    readDetail.set(req, asked);
    if (!siteAllowed(actor, site)) throw notFound(site, id);
    const r = await findResident(opts.db, site, id);
    if (!r || !mayReadResident(actor, r)) throw notFound(site, id);

    const limit = q.limit ?? 100;
    const now = clock.now();
    // The earliest readable fix: the retention window and the resident's consent, whichever is later.
    const floors = [Date.parse(r.consent.givenAt)];
    if (opts.locationRetentionDays > 0) floors.push(now - opts.locationRetentionDays * DAY_MS);
    if (q.from !== undefined) floors.push(Date.parse(q.from));
    const from = new Date(Math.max(...floors.filter((f) => Number.isFinite(f)))).toISOString();
    const to = q.to !== undefined ? new Date(Date.parse(q.to)).toISOString() : null;
    const consent = r.consent.scope.includes('location');
    const base = { site, resident: id, locationConsent: consent, retentionDays: opts.locationRetentionDays, from, to };
    if (!consent || (to !== null && from >= to)) {
      readDetail.set(req, { ...asked, from, to, points: 0, locationConsent: consent });
      return { ...base, positions: [], nextTo: null };
    }
    // One row per fix: the wearable sends lat and lon as two points with the same time.
    const params: unknown[] = [site, r.wearable, LAT, LON, from];
    if (to !== null) params.push(to);
    params.push(limit + 1);
    const rows = (await opts.db.query<{ time: Date | string; lat: number; lon: number }>(
      `SELECT time, max(value) FILTER (WHERE metric = $3) AS lat, max(value) FILTER (WHERE metric = $4) AS lon
         FROM telemetry
        WHERE site = $1 AND device = $2 AND metric IN ($3, $4) AND time >= $5::timestamptz ${to !== null ? 'AND time < $6::timestamptz' : ''}
        GROUP BY time
       HAVING count(*) FILTER (WHERE metric = $3) > 0 AND count(*) FILTER (WHERE metric = $4) > 0
        ORDER BY time DESC
        LIMIT $${params.length}`, params)).rows;
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    const positions = kept.map((p) => ({ time: iso(p.time)!, lat: Number(p.lat), lon: Number(p.lon) }));
    readDetail.set(req, { ...asked, from, to, points: positions.length, locationConsent: true });
    // The next (older) page: pass nextTo as `to` (exclusive).
    return { ...base, positions, nextTo: more ? positions[positions.length - 1]!.time : null };
  });
}
