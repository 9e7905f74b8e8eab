/**
 * Events and telemetry queries: time range, site, device, kind or metric, newest first, paged with an
 * opaque keyset cursor over (time, edge, seq). Scoped to the caller's sites, and residents' positions to
 * admins and the resident's guard team (location-scope.ts): position telemetry is filtered in SQL, care and
 * wearable events come back without their positions (`tags.location_hidden`).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf, scopeSites, type Db } from '../auth/index.js';
import { scopeEvents, telemetryLocationClause } from './location-scope.js';
import { SeriesQuery } from './schemas.js';
import { Where, decodeCursor, encodeCursor, iso } from './sql.js';

/** The query the series routes share, as its schema (SeriesQuery: every field optional) types it. */
type SeriesParams = { [K in keyof typeof SeriesQuery]?: Static<(typeof SeriesQuery)[K]> };

function seriesWhere(q: SeriesParams, sites: readonly string[] | '*'): Where {
  const w = new Where().sites('site', sites);
  if (q.device !== undefined) w.add('device = ?', q.device);
  if (q.from !== undefined) w.add('time >= ?::timestamptz', q.from);
  if (q.to !== undefined) w.add('time < ?::timestamptz', q.to);
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    // Row comparison matches ORDER BY time DESC, edge DESC, seq DESC: the next page starts strictly after.
    w.params.push(c.time, c.edge, c.seq);
    const n = w.params.length;
    w.raw(`(time, edge, seq) < ($${n - 2}::timestamptz, $${n - 1}, $${n})`);
  }
  return w;
}

function page<R extends { time: Date; edge: string; seq: string | number }>(rows: R[], limit: number): { rows: R[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { rows: kept, nextCursor: more && last ? encodeCursor({ time: new Date(last.time).toISOString(), edge: last.edge, seq: Number(last.seq) }) : null };
}

export function seriesRoutes(fastify: FastifyInstance, db: Db): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/events', {
    schema: {
      tags: ['query'], summary: 'Events, newest first',
      querystring: Type.Object({ ...SeriesQuery, kind: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z][a-z0-9_.]*$' })) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const actor = actorOf(req);
    const w = seriesWhere(q, scopeSites(actor, q.site));
    if (q.kind !== undefined) w.add('kind = ?', q.kind);
    const rows = await db.query<{ id: string; site: string; edge: string; seq: string; device: string; kind: string; severity: string; device_time: Date | null; time: Date; received_at: Date; tags: Record<string, string> | null; payload: unknown }>(
      `SELECT id, site, edge, seq, device, kind, severity, device_time, time, received_at, tags, payload
         FROM events ${w} ORDER BY time DESC, edge DESC, seq DESC LIMIT ${w.next()}`, [...w.params, limit + 1]);
    const p = page(rows, limit);
    const events = p.rows.map((r) => ({
      id: r.id, site: r.site, edge: r.edge, seq: Number(r.seq), device: r.device, kind: r.kind, severity: r.severity,
      deviceTime: iso(r.device_time), edgeTime: iso(r.time), receivedAt: iso(r.received_at), tags: r.tags ?? {}, payload: r.payload,
    }));
    return { events: await scopeEvents(db, actor, events), nextCursor: p.nextCursor };
  });

  app.get('/telemetry', {
    schema: {
      tags: ['query'], summary: 'Telemetry points, newest first',
      querystring: Type.Object({ ...SeriesQuery, metric: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z][a-z0-9_.]*$' })) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const actor = actorOf(req);
    const w = seriesWhere(q, scopeSites(actor, q.site));
    if (q.metric !== undefined) w.add('metric = ?', q.metric);
    // In SQL, before LIMIT: a page holds `limit` rows the caller may see, and the cursor stays right.
    telemetryLocationClause(actor, w);
    const rows = await db.query<{ site: string; edge: string; seq: string; device: string; metric: string; value: number; unit: string | null; time: Date }>(
      `SELECT site, edge, seq, device, metric, value, unit, time
         FROM telemetry ${w} ORDER BY time DESC, edge DESC, seq DESC LIMIT ${w.next()}`, [...w.params, limit + 1]);
    const p = page(rows, limit);
    return {
      points: p.rows.map((r) => ({ site: r.site, edge: r.edge, seq: Number(r.seq), device: r.device, metric: r.metric, value: Number(r.value), unit: r.unit, time: iso(r.time) })),
      nextCursor: p.nextCursor,
    };
  });
}
