/**
 * Reads the headers of an evidence chunk (the edge↔cloud contract of issue 16): the byte range and the
 * clip's description, sent again on every chunk so any chunk can be the first the cloud sees. A bad header
 * is named in the error, as every boundary of the service does.
 */
import { ID_RE, SEVERITIES, UUID_RE } from '@safe-community/contracts';
import type { ClipMeta } from './clips-db.js';

export interface ChunkRange {
  start: number;
  end: number;
  total: number;
}

export interface ChunkHeaders {
  range: ChunkRange;
  meta: ClipMeta;
}

export interface HeaderIssue {
  path: string;
  reason: string;
}

const KIND_RE = /^[a-z][a-z0-9_.]{0,63}$/;
const SHA_RE = /^[0-9a-fA-F]{64}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const RANGE_RE = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/;
/** A clip is seconds to minutes long; an hour is far past any pre + post the edge can be set to. */
const MAX_DURATION_MS = 3_600_000;

type Headers = Record<string, string | string[] | undefined>;

const one = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? undefined : v;
};

/** Parses `content-range: bytes START-END/TOTAL` (END inclusive). */
export function parseContentRange(value: string | undefined): ChunkRange | HeaderIssue {
  const m = value === undefined ? null : RANGE_RE.exec(value.trim());
  if (!m) return { path: 'content-range', reason: 'must be "bytes START-END/TOTAL" (END inclusive)' };
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= total) return { path: 'content-range', reason: `START ≤ END < TOTAL is required, got ${start}-${end}/${total}` };
  return { start, end, total };
}

/** The chunk's range and the clip's description, or every header that is wrong. */
export function parseChunkHeaders(h: Headers): ChunkHeaders | { issues: HeaderIssue[] } {
  const issues: HeaderIssue[] = [];
  const need = (name: string, test: (v: string) => boolean, reason: string): string => {
    const v = one(h, name);
    if (v === undefined || !test(v)) issues.push({ path: name, reason: v === undefined ? 'is required' : reason });
    return v ?? '';
  };
  const range = parseContentRange(one(h, 'content-range'));
  if ('path' in range) issues.push(range);
  const camera = need('evidence-camera', (v) => ID_RE.test(v), 'must be a device id (letters, digits, . _ -, at most 64)');
  const triggerEvent = need('evidence-trigger', (v) => UUID_RE.test(v), 'must be the UUID of the event that caused the clip');
  const triggerKind = need('evidence-trigger-kind', (v) => KIND_RE.test(v), 'must be an event kind such as door.forced');
  const severity = need('evidence-severity', (v) => (SEVERITIES as readonly string[]).includes(v), `must be one of ${SEVERITIES.join(', ')}`);
  const startAt = need('evidence-start', (v) => ISO_RE.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time with a zone');
  const duration = need('evidence-duration-ms', (v) => /^\d{1,7}$/.test(v) && Number(v) > 0 && Number(v) <= MAX_DURATION_MS, `must be an integer of milliseconds in 1..${MAX_DURATION_MS}`);
  const blurred = need('evidence-blurred', (v) => v === '0' || v === '1', 'must be 1 (faces blurred) or 0');
  const sha256 = need('evidence-sha256', (v) => SHA_RE.test(v), 'must be the hex sha256 of the whole clip (64 characters)');
  if (issues.length > 0 || 'path' in range) return { issues };
  return {
    range,
    meta: { camera, triggerEvent: triggerEvent.toLowerCase(), triggerKind, severity, startAt: new Date(startAt).toISOString(), durationMs: Number(duration), blurred: blurred === '1', sha256: sha256.toLowerCase() },
  };
}
