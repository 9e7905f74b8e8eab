/**
 * Debounce and cooldown per (rule, scope). Both act on the leading edge, so the first trigger always acts
 * at once (a fire linkage must never wait for a quiet period):
 * - debounce: a repeat within debounceMs of the previous *trigger* is dropped, and the window slides with
 *   every repeat, so a chattering detector stays quiet until it has been still for debounceMs;
 * - cooldown: after an *execution*, triggers are dropped for cooldownMs, however they are spaced.
 */
export type ThrottleVerdict = 'run' | 'debounced' | 'cooling';

export class Throttle {
  private readonly lastTrigger = new Map<string, number>();
  private readonly lastRun = new Map<string, number>();

  /** Decides for a trigger at `now`; records it either way. */
  check(key: string, now: number, debounceMs: number, cooldownMs: number): ThrottleVerdict {
    const prevTrigger = this.lastTrigger.get(key);
    this.lastTrigger.set(key, now);
    if (debounceMs > 0 && prevTrigger !== undefined && now - prevTrigger < debounceMs) return 'debounced';
    const prevRun = this.lastRun.get(key);
    if (cooldownMs > 0 && prevRun !== undefined && now - prevRun < cooldownMs) return 'cooling';
    this.lastRun.set(key, now);
    return 'run';
  }

  /** Bounds memory: forgets keys idle for longer than `olderThanMs`. */
  prune(now: number, olderThanMs: number): void {
    for (const [k, t] of this.lastTrigger) if (now - t > olderThanMs) this.lastTrigger.delete(k);
    for (const [k, t] of this.lastRun) if (now - t > olderThanMs) this.lastRun.delete(k);
  }
}
