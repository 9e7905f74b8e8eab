/** SQL of the evidence tables (migration 0110): clip rows and per-site settings. */
import type { Db } from '../auth/index.js';

export interface ClipMeta {
  camera: string;
  triggerEvent: string;
  triggerKind: string;
  severity: string;
  startAt: string;
  durationMs: number;
  blurred: boolean;
  sha256: string;
}

export interface ClipRow extends ClipMeta {
  clip: string;
  site: string;
  edge: string;
  bytes: number;
  receivedAt: string;
  storageKey: string | null;
  status: 'uploading' | 'ready';
}

export interface EvidenceSettings {
  allowUnblurred: boolean;
  retentionDays: number;
}

export const DEFAULT_SETTINGS: Readonly<EvidenceSettings> = Object.freeze({ allowUnblurred: false, retentionDays: 30 });

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

const COLUMNS = `clip, site, edge, camera, trigger_event, trigger_kind, severity, start_at, duration_ms, bytes, sha256,
  blurred, received_at, storage_key, status`;

function toRow(r: Record<string, unknown>): ClipRow {
  return {
    clip: String(r.clip), site: String(r.site), edge: String(r.edge), camera: String(r.camera),
    triggerEvent: String(r.trigger_event), triggerKind: String(r.trigger_kind), severity: String(r.severity),
    startAt: iso(r.start_at), durationMs: Number(r.duration_ms), bytes: Number(r.bytes), sha256: String(r.sha256),
    blurred: Boolean(r.blurred), receivedAt: iso(r.received_at), storageKey: r.storage_key === null ? null : String(r.storage_key),
    status: r.status === 'ready' ? 'ready' : 'uploading',
  };
}

export async function getClip(db: Db, clip: string): Promise<ClipRow | null> {
  const rows = await db.query(`SELECT ${COLUMNS} FROM evidence_clips WHERE clip = $1`, [clip]);
  return rows[0] ? toRow(rows[0]) : null;
}

/** Records an upload's first chunk; returns the row as stored (another edge's, when the id is taken). */
export async function beginClip(db: Db, c: { clip: string; site: string; edge: string; bytes: number } & ClipMeta): Promise<ClipRow> {
  await db.query(
    `INSERT INTO evidence_clips (clip, site, edge, camera, trigger_event, trigger_kind, severity, start_at, duration_ms, bytes, sha256, blurred)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (clip) DO NOTHING`,
    [c.clip, c.site, c.edge, c.camera, c.triggerEvent, c.triggerKind, c.severity, c.startAt, c.durationMs, c.bytes, c.sha256.toLowerCase(), c.blurred],
  );
  const row = await getClip(db, c.clip);
  if (!row) throw new Error(`evidence clip ${c.clip} vanished right after it was recorded`);
  return row;
}

export async function markReady(db: Db, clip: string, storageKey: string): Promise<void> {
  await db.query(`UPDATE evidence_clips SET status = 'ready', storage_key = $2, received_at = now() WHERE clip = $1`, [clip, storageKey]);
}

/** A discarded upload (hash mismatch, stale partial) leaves no row: the edge starts it again from 0. */
export async function forgetUpload(db: Db, clip: string): Promise<void> {
  await db.query(`DELETE FROM evidence_clips WHERE clip = $1 AND status = 'uploading'`, [clip]);
}

export async function deleteClip(db: Db, clip: string): Promise<void> {
  await db.query('DELETE FROM evidence_clips WHERE clip = $1', [clip]);
}

/** Ready clips received before the cutoff of their site's retention (default days for sites without a row). */
export async function expiredClips(db: Db, defaultDays: number, limit: number): Promise<ClipRow[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS.split(',').map((c) => `c.${c.trim()}`).join(', ')} FROM evidence_clips c
       LEFT JOIN evidence_site_settings s ON s.site = c.site
      WHERE c.status = 'ready' AND c.received_at < now() - make_interval(days => COALESCE(s.retention_days, $1::int))
      ORDER BY c.received_at LIMIT $2`,
    [defaultDays, limit],
  );
  return rows.map(toRow);
}

/** Clips whose trigger is one of `events` on `site`: the ones an alarm's evidence shows. */
export async function clipsForTriggers(db: Db, site: string, events: readonly string[]): Promise<ClipRow[]> {
  if (events.length === 0) return [];
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM evidence_clips WHERE site = $1 AND trigger_event = ANY($2::uuid[]) ORDER BY start_at, clip`,
    [site, [...events]],
  );
  return rows.map(toRow);
}

export async function readSettings(db: Db, site: string, defaults: EvidenceSettings = DEFAULT_SETTINGS): Promise<EvidenceSettings> {
  const rows = await db.query<{ allow_unblurred: boolean; retention_days: number }>(
    'SELECT allow_unblurred, retention_days FROM evidence_site_settings WHERE site = $1', [site]);
  const r = rows[0];
  return r ? { allowUnblurred: Boolean(r.allow_unblurred), retentionDays: Number(r.retention_days) } : { ...defaults };
}

export async function writeSettings(db: Db, site: string, s: EvidenceSettings, by: string): Promise<EvidenceSettings> {
  await db.query(
    `INSERT INTO evidence_site_settings (site, allow_unblurred, retention_days, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (site) DO UPDATE SET allow_unblurred = EXCLUDED.allow_unblurred, retention_days = EXCLUDED.retention_days,
       updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [site, s.allowUnblurred, s.retentionDays, by],
  );
  return readSettings(db, site);
}
