/**
 * Watches the uplink for a stall: records waiting in the outbox and no acknowledgement progress for
 * `stallMs` (issue 13: edge uploads stuck while /health stayed green). A stall raises one
 * `edge.uplink_stalled` alarm through the outbox (it reaches the cloud once the uplink moves again, and
 * the edge's own log and /health say it at once); progress closes it.
 */
import { randomUUID } from 'node:crypto';
import type { Alarm } from '@safe-community/contracts';
import type { Clock, Logger, PartHealth } from '@safe-community/runtime';

export interface StallWatchOptions {
  site: string;
  edge: string;
  /** The uplink's view: records waiting and the highest acknowledged seq. */
  source: () => { depth: number; ackedSeq: number; connected: boolean };
  stallMs: number;
  /** How often to look. */
  checkMs: number;
  raise: (alarm: Alarm) => void;
  clock: Clock;
  log: Logger;
}

export class UplinkStallWatch {
  private timer: unknown;
  private lastAcked = -1;
  private progressAt = 0;
  private open: Alarm | null = null;

  constructor(private readonly opts: StallWatchOptions) {}

  start(): Promise<void> {
    this.progressAt = this.opts.clock.now();
    const tick = (): void => {
      this.check();
      this.timer = this.opts.clock.setTimeout(tick, this.opts.checkMs);
    };
    this.timer = this.opts.clock.setTimeout(tick, this.opts.checkMs);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.opts.clock.clearTimeout(this.timer);
    return Promise.resolve();
  }

  /** One look (the timer calls it; tests may too). */
  check(): void {
    const { depth, ackedSeq } = this.opts.source();
    const now = this.opts.clock.now();
    if (ackedSeq !== this.lastAcked || depth === 0) {
      this.lastAcked = ackedSeq;
      this.progressAt = now;
      if (this.open) this.close(now);
      return;
    }
    if (!this.open && now - this.progressAt >= this.opts.stallMs) this.raise(now, depth);
  }

  health(): PartHealth {
    const { depth, connected } = this.opts.source();
    if (this.open) {
      return { state: 'degraded', reason: `uplink stalled: ${depth} records waiting, no acknowledgement for ${Math.round((this.opts.clock.now() - this.progressAt) / 1000)} s${connected ? '' : '; not connected'}` };
    }
    return connected ? { state: 'up' } : { state: 'degraded', reason: `reconnecting; ${depth} records wait in the outbox` };
  }

  get stalled(): boolean {
    return this.open !== null;
  }

  private raise(now: number, depth: number): void {
    const { site, edge } = this.opts;
    const alarm: Alarm = {
      id: randomUUID(), site, edge, device: edge, type: 'edge.uplink_stalled', severity: 'major', state: 'open',
      raisedAt: new Date(now).toISOString(), count: 1,
      message: `uplink stalled: ${depth} records waiting, no acknowledgement for ${Math.round((now - this.progressAt) / 1000)} s`,
    };
    this.open = alarm;
    this.opts.log.warn({ depth, sinceMs: now - this.progressAt }, alarm.message);
    this.opts.raise(alarm);
  }

  private close(now: number): void {
    const alarm = this.open!;
    this.open = null;
    this.opts.log.info('uplink moving again');
    this.opts.raise({ ...alarm, state: 'resolved', raisedAt: new Date(now).toISOString(), message: 'uplink moving again' });
  }
}
