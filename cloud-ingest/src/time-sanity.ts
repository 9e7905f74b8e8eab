/**
 * Time sanity for the partitioned tables (events, telemetry, command results, linkage executions): a record
 * whose time is far ahead of the ingest's clock (or, when configured, far behind) is stored at the ingest
 * time instead. One telemetry point dated 8 days ahead landed in the default partition and made the next
 * partition creation fail for every table (issue 13). Nothing is dropped: an event keeps its original time
 * in the `clock_skew` tag, a command result in its detail; every adjustment is counted.
 */
import type { UplinkMessage } from '@safe-community/contracts';

export interface TimeWindow {
  /** The ingest's clock, ms since the epoch. */
  now: number;
  /** Largest accepted lead over the ingest clock. */
  maxFutureMs: number;
  /** Largest accepted lag behind it; 0 accepts any age (an edge replaying after a long outage). */
  maxPastMs: number;
}

const partitionTime = (m: UplinkMessage): string | null => {
  switch (m.type) {
    case 'event': return m.data.edgeTime;
    case 'telemetry': return m.data.time;
    case 'command_result': return m.data.at;
    case 'linkage': return m.data.startedAt;
    default: return null;
  }
};

/** Returns the message unchanged when its time is sane, else a copy stored at `now`. */
/** Canonical UTC ISO times (what the edge sends) order as strings; anything else is parsed. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
let bounds: { now: number; maxFutureMs: number; maxPastMs: number; hi: string; lo: string } | undefined;

/** The window's edges as canonical strings, kept while the window is the same (one per envelope). */
function windowBounds(w: TimeWindow): { hi: string; lo: string } {
  if (!bounds || bounds.now !== w.now || bounds.maxFutureMs !== w.maxFutureMs || bounds.maxPastMs !== w.maxPastMs) {
    const iso = (ms: number): string => (ms >= 0 && ms < 253402300800000 ? new Date(ms).toISOString() : '');
    bounds = { ...w, hi: iso(w.now + w.maxFutureMs), lo: w.maxPastMs > 0 ? iso(w.now - w.maxPastMs) : '' };
  }
  return bounds;
}

export function saneTime(m: UplinkMessage, w: TimeWindow): { msg: UplinkMessage; adjusted: boolean } {
  const t = partitionTime(m);
  if (t === null) return { msg: m, adjusted: false };
  // Fast path for the common case, without a Date.parse per record (issue #19): strictly inside the window.
  const b = windowBounds(w);
  if (b.hi.length === 24 && t.length === 24 && CANONICAL.test(t) && t < b.hi && (w.maxPastMs <= 0 || (b.lo.length === 24 && t > b.lo))) {
    return { msg: m, adjusted: false };
  }
  const ms = Date.parse(t);
  const tooNew = ms > w.now + w.maxFutureMs;
  const tooOld = w.maxPastMs > 0 && ms < w.now - w.maxPastMs;
  if (!tooNew && !tooOld) return { msg: m, adjusted: false };
  const now = new Date(w.now).toISOString();
  switch (m.type) {
    case 'event':
      return { msg: { ...m, data: { ...m.data, edgeTime: now, tags: { ...m.data.tags, clock_skew: t } } }, adjusted: true };
    case 'telemetry':
      return { msg: { ...m, data: { ...m.data, time: now } }, adjusted: true };
    case 'command_result':
      return { msg: { ...m, data: { ...m.data, at: now, detail: `${m.data.detail ?? ''} [edge time ${t} out of range; stored at ingest time]`.trim().slice(0, 512) } }, adjusted: true };
    case 'linkage': {
      // The run keeps its length; only where it sits in time moves.
      const took = Math.max(0, Date.parse(m.data.finishedAt) - ms);
      return { msg: { ...m, data: { ...m.data, startedAt: now, finishedAt: new Date(w.now + (Number.isFinite(took) ? took : 0)).toISOString() } }, adjusted: true };
    }
    default:
      return { msg: m, adjusted: false };
  }
}
