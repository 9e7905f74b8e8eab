/**
 * Incidents: related alarms grouped so staff handle one thing. Alarms join the open incident of the same
 * site and group key (the resident's episode, as the edge tagged it, for elderly care; else the resident;
 * else the same building; else the device alone) when that incident saw an alarm within the window (an
 * episode needs no window); an incident closes when none of its alarms is active.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from '../store/db.js';
import { toIncidentView } from './rows.js';
import type { IncidentView, Severity } from './types.js';
import { higherSeverity } from '../store/severity-sql.js';

export function groupKeyOf(device: string, tags: Record<string, string> | null | undefined): string {
  // The edge already decided which of a resident's alarms belong together (one episode): trust it, so a
  // replay after an outage fuses exactly as the live stream would have.
  if (tags?.resident && tags.episode) return `resident:${tags.resident}:${tags.episode}`;
  if (tags?.resident) return `resident:${tags.resident}`;
  if (tags?.building) return `building:${tags.building}`;
  return `device:${device}`;
}


/** Puts the alarm into an incident (joining or opening one); returns the incident id. */
export async function attachToIncident(
  tx: Tx,
  a: { id: string; site: string; device: string; severity: Severity; tags: Record<string, string> | null; at: string },
  windowMs: number,
): Promise<string> {
  const key = groupKeyOf(a.device, a.tags);
  // An episode key is the whole grouping; other keys join only an incident active within the window.
  const since = a.tags?.resident && a.tags.episode ? '-infinity' : new Date(Date.parse(a.at) - windowMs).toISOString();
  const found = (await tx.query<{ id: string }>(
    `SELECT id FROM incidents WHERE site = $1 AND group_key = $2 AND state = 'open' AND last_alarm_at >= $3
      ORDER BY last_alarm_at DESC LIMIT 1 FOR UPDATE`,
    [a.site, key, since],
  )).rows[0];
  let id: string;
  if (found) {
    id = found.id;
    await tx.query(
      `UPDATE incidents SET last_alarm_at = GREATEST(last_alarm_at, $2::timestamptz),
              severity = ${higherSeverity('severity', '$3::text')}
        WHERE id = $1`,
      [id, a.at, a.severity],
    );
  } else {
    id = randomUUID();
    await tx.query(
      `INSERT INTO incidents (id, site, group_key, state, severity, opened_at, last_alarm_at) VALUES ($1, $2, $3, 'open', $4, $5, $5)`,
      [id, a.site, key, a.severity, a.at],
    );
  }
  await tx.query('UPDATE alarms SET incident_id = $2 WHERE id = $1', [a.id, id]);
  return id;
}

/** Closes the incident when it has no active alarm left. */
export async function closeIncidentIfDone(tx: Tx, incidentId: string | null, at: string): Promise<boolean> {
  if (!incidentId) return false;
  const r = await tx.query(
    `UPDATE incidents SET state = 'closed', closed_at = $2
      WHERE id = $1 AND state = 'open'
        AND NOT EXISTS (SELECT 1 FROM alarms WHERE incident_id = $1 AND state IN ('open','acknowledged','dispatched'))
      RETURNING id`,
    [incidentId, at],
  );
  return r.rows.length > 0;
}

export async function listIncidents(db: Db, filter: { sites: readonly string[] | '*'; open?: boolean; limit?: number }): Promise<IncidentView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.sites !== '*') {
    params.push([...filter.sites]);
    where.push(`i.site = ANY($${params.length}::text[])`);
  }
  if (filter.open !== undefined) where.push(filter.open ? `i.state = 'open'` : `i.state = 'closed'`);
  params.push(Math.min(Math.max(filter.limit ?? 100, 1), 500));
  const rows = (await db.query(
    `SELECT i.*, COALESCE(array_agg(a.id::text ORDER BY a.raised_at) FILTER (WHERE a.id IS NOT NULL), '{}') AS alarm_ids,
            count(a.id) FILTER (WHERE a.state IN ('open','acknowledged','dispatched')) AS open_alarms
       FROM incidents i LEFT JOIN alarms a ON a.incident_id = i.id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY i.id ORDER BY i.last_alarm_at DESC LIMIT $${params.length}`,
    params,
  )).rows;
  return rows.map(toIncidentView);
}
