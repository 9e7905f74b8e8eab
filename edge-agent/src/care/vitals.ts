/**
 * Vital-sign thresholds without flapping. A reading out of range only becomes an alarm after it has
 * stayed out, in the same direction, for the minimum duration (one odd reading is noise); once raised,
 * the level clears only when a reading is back inside by the hysteresis margin, so a value hovering at
 * the limit raises once, not on every crossing.
 */
import type { VitalState } from './state.js';

export interface VitalLimits {
  low: number;
  high: number;
  hysteresis: number;
  minDurationS: number;
}

export type VitalStep =
  | { kind: 'none' }
  | { kind: 'raise'; dir: 'low' | 'high'; since: number }
  | { kind: 'clear'; from: 'low' | 'high' };

/** Feeds one reading taken at `now`; mutates `s` and says whether an alarm is due or an excursion ended. */
export function stepVital(s: VitalState, value: number, now: number, lim: VitalLimits): VitalStep {
  s.last = value;
  const dir = value < lim.low ? 'low' : value > lim.high ? 'high' : null;
  if (s.level !== 'normal') {
    const back = value >= lim.low + lim.hysteresis && value <= lim.high - lim.hysteresis;
    if (!back) return { kind: 'none' };
    const from = s.level;
    s.level = 'normal';
    delete s.pending;
    return { kind: 'clear', from };
  }
  if (dir === null) {
    delete s.pending;
    return { kind: 'none' };
  }
  if (!s.pending || s.pending.dir !== dir) s.pending = { dir, since: now };
  if (now - s.pending.since < lim.minDurationS * 1000) return { kind: 'none' };
  const since = s.pending.since;
  s.level = dir;
  delete s.pending;
  return { kind: 'raise', dir, since };
}
