/**
 * Sites, edges and devices, as the ingest knows them: edges from edge_cursor (one row per edge that has
 * sent anything), devices from device_status (last known state). Every list is scoped to the caller's sites.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf, scopeSites, type Db } from '../auth/index.js';
import { Id } from './schemas.js';
import { Where, iso } from './sql.js';

export function inventoryRoutes(fastify: FastifyInstance, db: Db): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/sites', {
    schema: { tags: ['inventory'], summary: 'Sites the caller may see, with edge and device counts' },
  }, async (req) => {
    const actor = actorOf(req);
    const w = new Where().sites('site', actor.sites);
    const rows = await db.query<{ site: string; edges: number; devices: number; online: number; last_seen: Date | null }>(
      `WITH s AS (SELECT site FROM edge_cursor UNION SELECT site FROM device_status)
       SELECT s.site,
              (SELECT count(*)::int FROM edge_cursor e WHERE e.site = s.site) AS edges,
              (SELECT count(*)::int FROM device_status d WHERE d.site = s.site) AS devices,
              (SELECT count(*)::int FROM device_status d WHERE d.site = s.site AND d.online) AS online,
              (SELECT max(updated_at) FROM edge_cursor e WHERE e.site = s.site) AS last_seen
         FROM s ${w} ORDER BY s.site`, w.params);
    return { sites: rows.map((r) => ({ site: r.site, edges: r.edges, devices: r.devices, online: r.online, lastSeenAt: iso(r.last_seen) })) };
  });

  app.get('/edges', {
    schema: { tags: ['inventory'], summary: 'Edges with their ingest high-water mark', querystring: Type.Object({ site: Type.Optional(Id) }, { additionalProperties: false }) },
  }, async (req) => {
    const q = req.query;
    const w = new Where().sites('site', scopeSites(actorOf(req), q.site));
    const rows = await db.query<{ edge: string; site: string; last_seq: string | number; updated_at: Date }>(
      `SELECT edge, site, last_seq, updated_at FROM edge_cursor ${w} ORDER BY site, edge`, w.params);
    return { edges: rows.map((r) => ({ edge: r.edge, site: r.site, lastSeq: Number(r.last_seq), lastSeenAt: iso(r.updated_at) })) };
  });

  app.get('/devices', {
    schema: {
      tags: ['inventory'], summary: 'Devices with their last known status',
      querystring: Type.Object({ site: Type.Optional(Id), edge: Type.Optional(Id), online: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query;
    const w = new Where().sites('d.site', scopeSites(actorOf(req), q.site));
    if (q.edge !== undefined) w.add('d.edge = ?', q.edge);
    if (q.online !== undefined) w.add('d.online = ?', q.online);
    const rows = await db.query<{ site: string; edge: string; device: string; kind: string | null; online: boolean; state: Record<string, unknown> | null; at: Date; edge_seen: Date | null }>(
      `SELECT d.site, d.edge, d.device, d.kind, d.online, d.state, d.at, e.updated_at AS edge_seen
         FROM device_status d LEFT JOIN edge_cursor e ON e.edge = d.edge ${w} ORDER BY d.site, d.device`, w.params);
    return {
      devices: rows.map((r) => ({
        site: r.site, edge: r.edge, device: r.device, online: r.online, state: r.state ?? {},
        kind: r.kind,
        statusAt: iso(r.at), edgeLastSeenAt: iso(r.edge_seen),
      })),
    };
  });
}
