/**
 * A virtual clock for scripted days: time moves only when the script says so, and timers due on the way
 * fire in time order with the clock set to their due time, so a 24-hour day runs in seconds and the
 * rules under test see exactly the times the script names. Implements the runtime Clock.
 */
import type { Clock } from '@safe-community/runtime';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t: Timer = { id: ++this.seq, at: this.current + Math.max(0, ms), fn };
    this.timers.push(t);
    return t.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Moves to `target`, firing each timer due on the way (earliest first, then in the order set). After
   * each timer `settle` runs, so work the timer started (writes, publishes) finishes at that instant.
   */
  async advanceTo(target: number, settle?: () => Promise<void>): Promise<void> {
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      const fire = next;
      this.timers = this.timers.filter((t) => t !== fire);
      this.current = Math.max(this.current, fire.at);
      fire.fn();
      if (settle) await settle();
    }
    this.current = Math.max(this.current, target);
  }
}
