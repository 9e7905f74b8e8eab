/**
 * The clips of an alarm's evidence (issue 16): those announced by `evidence.clip` events of its trigger
 * events (pending until uploaded) and those uploaded for them (`evidence_clips`, ready once complete). Both
 * are read within the alarm's site only, as the rest of its evidence is.
 */
import type { Tx } from '../alarms/db.js';

export interface ClipEvidence {
  clip: string;
  camera: string;
  startAt: string;
  durationMs: number;
  /** Whether faces are blurred; null while only announced (the upload says). */
  blurred: boolean | null;
  status: 'pending' | 'ready';
  /** Where the API serves it (video/mp4, range requests). */
  url: string;
}

/** The API's mount point the clip URLs are given under (registerApi's default prefix). */
export const CLIP_API_BASE = '/api/v1';

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

export async function alarmClips(db: Tx, alarmId: string, site: string, triggerEvents: readonly string[]): Promise<ClipEvidence[]> {
  if (triggerEvents.length === 0) return [];
  const ids = [...triggerEvents];
  const uploaded = (await db.query(
    `SELECT clip, camera, start_at, duration_ms, blurred, status FROM evidence_clips
      WHERE site = $1 AND trigger_event = ANY($2::uuid[]) ORDER BY start_at, clip`, [site, ids])).rows;
  const announced = (await db.query(
    `SELECT payload->>'clip' AS clip, COALESCE(payload->>'camera', device) AS camera, payload->>'startAt' AS start_at, payload->>'endAt' AS end_at
       FROM events WHERE kind = 'evidence.clip' AND site = $1 AND payload->>'triggerEventId' = ANY($2::text[]) ORDER BY time`, [site, ids])).rows;
  const url = (clip: string): string => `${CLIP_API_BASE}/alarms/${alarmId}/clips/${clip}`;
  const out = new Map<string, ClipEvidence>();
  for (const r of uploaded) {
    const clip = String(r.clip);
    out.set(clip, {
      clip, camera: String(r.camera), startAt: iso(r.start_at), durationMs: Number(r.duration_ms), blurred: Boolean(r.blurred),
      status: r.status === 'ready' ? 'ready' : 'pending', url: url(clip),
    });
  }
  for (const r of announced) {
    const clip = String(r.clip ?? '').toLowerCase();
    const start = Date.parse(String(r.start_at));
    const end = Date.parse(String(r.end_at));
    if (!/^[0-9a-f-]{36}$/.test(clip) || out.has(clip) || Number.isNaN(start)) continue;
    out.set(clip, {
      clip, camera: String(r.camera), startAt: new Date(start).toISOString(), durationMs: Number.isNaN(end) ? 0 : Math.max(0, end - start),
      blurred: null, status: 'pending', url: url(clip),
    });
  }
  return [...out.values()].sort((a, b) => a.startAt.localeCompare(b.startAt) || a.clip.localeCompare(b.clip));
}
