/**
 * The one fake clock of the tests: the runtime's Clock whose time moves only when the test says so. Timers
 * due on the way fire in time order (equal times in the order they were set) with the clock set to their
 * due time, so a timer that sets another sees the time it was due at and the chained one fires too when
 * it falls inside the same move.
 */
import type { Clock } from '@safe-community/runtime';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A default start: a fixed instant, so logs and stored rows of a test read the same on every run. */
export const FAKE_CLOCK_START = Date.parse('2026-11-29T08:00:00.000Z');

/** Lets promises and I/O callbacks that a timer started run before the clock moves again. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = FAKE_CLOCK_START) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** now() as an ISO string (what stored rows and API answers carry). */
  iso(): string {
    return new Date(this.current).toISOString();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: Timer = { id: ++this.seq, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time on by `ms`, firing each timer due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (let timer = this.takeDue(end); timer; timer = this.takeDue(end)) timer.fn();
    this.current = Math.max(this.current, end);
  }

  /**
   * Moves time on without firing anything: for tests that drive due work themselves (a poll armed on the
   * clock would otherwise race the test's own call and take its work).
   */
  skip(ms: number): void {
    this.current += ms;
  }

  /**
   * Moves to `target`, firing each timer due on the way; `settle` is awaited before the first and after
   * each timer, so work a timer started (writes, publishes, promise chains) finishes at that instant.
   */
  async advanceTo(target: number, settle: () => Promise<void> = nextTurn): Promise<void> {
    await settle();
    for (let timer = this.takeDue(target); timer; timer = this.takeDue(target)) {
      timer.fn();
      await settle();
    }
    this.current = Math.max(this.current, target);
  }

  /** advanceTo(now + ms). */
  advanceAsync(ms: number, settle?: () => Promise<void>): Promise<void> {
    return this.advanceTo(this.current + ms, settle);
  }

  /** Removes and returns the earliest timer due by `end` (the earliest set among equals), moving time to it. */
  private takeDue(end: number): Timer | undefined {
    let next: Timer | undefined;
    for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
    if (!next) return undefined;
    const due = next;
    this.timers = this.timers.filter((t) => t !== due);
    this.current = Math.max(this.current, due.at);
    return due;
  }
}

/** A fake clock starting at `start` (default FAKE_CLOCK_START). */
export const fakeClock = (start?: number): FakeClock => new FakeClock(start);
