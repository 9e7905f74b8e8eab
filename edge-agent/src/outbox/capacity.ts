/**
 * The overflow rule of the outbox (issue 4: "thin telemetry first, never drop events or alarms").
 *
 * With `used` = bytes of records not yet acknowledged by the cloud and `max` = the configured capacity:
 *   used <  thinAt × max       every record is kept;
 *   used >= thinAt × max       telemetry is downsampled: per (device, metric), a point is kept only when its
 *                              sample time is at least `thinIntervalMs` after the last kept point;
 *   used >= max                all telemetry is dropped.
 * Events, alarms, status, command results and linkage records are always kept, even above `max` (the
 * capacity is a soft limit for them; the disk is the hard one). Thinned records get no seq, so the
 * sequence the cloud sees stays gap-free. The high-water alarm fires when `used` reaches highWaterAt × max
 * and re-arms once it falls below rearmAt × max, so a level hovering at the mark raises one alarm, not many.
 */
import { randomUUID } from 'node:crypto';
import type { Alarm, UplinkType } from '@safe-community/contracts';

export interface CapacityOptions {
  /** Capacity in bytes of unacknowledged records. */
  maxBytes: number;
  /** Share of maxBytes where the high-water alarm fires. Default 0.8. */
  highWaterAt?: number;
  /** Share of maxBytes below which the alarm re-arms. Default 0.7. */
  rearmAt?: number;
  /** Share of maxBytes where telemetry downsampling starts. Default 0.9. */
  thinAt?: number;
  /** Minimum sample spacing kept per (device, metric) while downsampling. Default 60 000 ms. */
  thinIntervalMs?: number;
}

/** Bound on remembered (device, metric) keys, so a flood of distinct metrics cannot grow memory. */
const MAX_KEYS = 50_000;

export type Verdict = 'keep' | 'thin';

export class CapacityRule {
  private readonly highWater: number;
  private readonly rearm: number;
  private readonly thinFrom: number;
  private readonly interval: number;
  private readonly lastKept = new Map<string, number>();
  private armed = true;

  constructor(private readonly opts: CapacityOptions) {
    this.highWater = opts.maxBytes * (opts.highWaterAt ?? 0.8);
    this.rearm = opts.maxBytes * (opts.rearmAt ?? 0.7);
    this.thinFrom = opts.maxBytes * (opts.thinAt ?? 0.9);
    this.interval = opts.thinIntervalMs ?? 60_000;
  }

  get maxBytes(): number {
    return this.opts.maxBytes;
  }

  /** Decides one incoming record given the bytes in use now. */
  judge(type: UplinkType, data: unknown, used: number, now: number): Verdict {
    if (type !== 'telemetry') return 'keep';
    if (used < this.thinFrom) {
      if (this.lastKept.size > 0) this.lastKept.clear();
      return 'keep';
    }
    if (used >= this.opts.maxBytes) return 'thin';
    const t = data as { device?: string; metric?: string; time?: string };
    const key = `${t.device}\u0000${t.metric}`;
    const sampled = typeof t.time === 'string' ? Date.parse(t.time) : NaN;
    const at = Number.isFinite(sampled) ? sampled : now;
    const last = this.lastKept.get(key);
    if (last !== undefined && at - last < this.interval && at >= last) return 'thin';
    if (this.lastKept.size >= MAX_KEYS) this.lastKept.clear();
    this.lastKept.set(key, at);
    return 'keep';
  }

  /** True exactly when `used` crosses the high-water mark upwards (the alarm is then disarmed). */
  crossedHighWater(used: number): boolean {
    if (this.armed && used >= this.highWater) {
      this.armed = false;
      return true;
    }
    if (!this.armed && used < this.rearm) this.armed = true;
    return false;
  }
}

/** The `outbox.high_water` alarm record; the outbox itself is the "device" that raises it. */
export function highWaterAlarm(who: { edge: string; site: string }, used: number, maxBytes: number, now: number): Alarm {
  const pct = Math.round((used / maxBytes) * 100);
  return {
    id: randomUUID(), site: who.site, edge: who.edge, device: who.edge,
    type: 'outbox.high_water', severity: 'major', state: 'open', raisedAt: new Date(now).toISOString(), count: 1,
    message: `outbox at ${pct}% of its ${maxBytes} bytes; telemetry is thinned first, events and alarms never`,
  };
}
