/**
 * Care decisions as canonical records. Each alarm travels with a companion event of the same kind that
 * holds what an Alarm has no room for (last positions, the values seen, episode timing); the alarm points
 * at it through sourceEventId. Both ids are derived from the occurrence key, so a record re-sent after a
 * crash between the outbox append and the state save carries the same id and the cloud's idempotent
 * write drops it.
 */
import { createHash } from 'node:crypto';
import type { Alarm, Event, Tags } from '@safe-community/contracts';
import type { Resident } from './residents.js';
import type { CareOutput } from './tracker.js';
import type { Fix } from './state.js';

/** A name-based UUID (version 5 layout over SHA-1, RFC 9562 §5.5) in the namespace of this edge. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface RecordContext {
  site: string;
  edge: string;
  /** The building of the resident (their record, else the wearable's tag), if known. */
  building: string | undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function careTags(resident: Resident, out: CareOutput, ctx: RecordContext, positions: readonly Fix[]): Tags {
  const tags: Tags = { resident: resident.id, category: out.category, reason: out.reason };
  if (ctx.building) tags.building = ctx.building;
  if (resident.unit) tags.unit = resident.unit;
  if (out.episode) {
    tags.episode = out.episode.id;
    tags.episode_start = iso(out.episode.startedAt);
  }
  const last = positions[positions.length - 1];
  if (last) {
    tags.last_lat = last.lat.toFixed(6);
    tags.last_lon = last.lon.toFixed(6);
    tags.last_fix_at = iso(last.at);
  }
  return tags;
}

/** The companion event, and for alarms the alarm itself (state open, count 1). */
export function careRecords(resident: Resident, out: CareOutput, ctx: RecordContext, positions: readonly Fix[]): { event: Event; alarm?: Alarm } {
  const tags = careTags(resident, out, ctx, positions);
  const eventId = stableUuid(ctx.site, ctx.edge, resident.id, out.key, 'event');
  const payload: Record<string, unknown> = {
    resident: resident.id, reason: out.reason, message: out.message, ...out.details,
    positions: positions.map((p) => ({ at: iso(p.at), lat: p.lat, lon: p.lon, inside: p.inside })),
  };
  if (out.episode) payload.episode = { id: out.episode.id, startedAt: iso(out.episode.startedAt) };
  const event: Event = {
    id: eventId, site: ctx.site, edge: ctx.edge, device: resident.wearable, kind: out.kind, severity: out.severity,
    edgeTime: iso(out.at), tags, payload,
  };
  if (!out.alarm) return { event };
  const alarm: Alarm = {
    id: stableUuid(ctx.site, ctx.edge, resident.id, out.key, 'alarm'), site: ctx.site, edge: ctx.edge, device: resident.wearable,
    type: out.kind, severity: out.severity, state: 'open', raisedAt: iso(out.at), count: 1, message: out.message.slice(0, 512),
    sourceEventId: eventId, tags,
  };
  return { event, alarm };
}
