/**
 * PullPoint subscriptions of the simulated camera (ONVIF Events §9.1): each subscription has its own queue
 * and termination time; PullMessages answers at once when messages wait, otherwise holds the request until
 * one arrives or the requested timeout passes, as real cameras do.
 */
import { randomUUID } from 'node:crypto';

/** One notification as the camera raises it. */
export interface CameraNotification {
  /** Concrete topic, e.g. tns1:VideoSource/MotionAlarm. */
  topic: string;
  utcTime: string;
  operation: 'Initialized' | 'Changed' | 'Deleted';
  source: Record<string, string>;
  data: Record<string, string>;
}

interface Waiter {
  limit: number;
  resolve: (msgs: CameraNotification[]) => void;
  timer: NodeJS.Timeout;
}

interface Subscription {
  id: string;
  queue: CameraNotification[];
  terminationAt: number;
  waiter?: Waiter;
}

/** Messages kept per subscription; older ones are dropped first so a client that stopped pulling costs bounded memory. */
const MAX_QUEUE = 256;

export class PullPointRegistry {
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly now: () => number) {}

  /** `initial`: the current state of the camera's properties, queued first (ONVIF Core §9.2.1, "Initialized"). */
  create(ttlMs: number, initial: readonly CameraNotification[] = []): { id: string; terminationAt: number } {
    this.sweep();
    const id = randomUUID();
    const terminationAt = this.now() + ttlMs;
    this.subs.set(id, { id, queue: initial.map((m) => ({ ...m, operation: 'Initialized' as const })), terminationAt });
    return { id, terminationAt };
  }

  /** The subscription's termination time, or undefined when it does not exist or has expired. */
  terminationOf(id: string): number | undefined {
    const sub = this.live(id);
    return sub?.terminationAt;
  }

  renew(id: string, ttlMs: number): number | undefined {
    const sub = this.live(id);
    if (!sub) return undefined;
    sub.terminationAt = this.now() + ttlMs;
    return sub.terminationAt;
  }

  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.release(sub);
    this.subs.delete(id);
    return true;
  }

  /** Resolves with up to `limit` messages, waiting at most `waitMs` for the first; undefined for an unknown subscription. */
  pull(id: string, limit: number, waitMs: number): Promise<CameraNotification[]> | undefined {
    const sub = this.live(id);
    if (!sub) return undefined;
    if (sub.queue.length > 0 || waitMs <= 0) return Promise.resolve(sub.queue.splice(0, limit));
    // A second pull on the same subscription replaces the first, which gets an empty answer.
    this.release(sub);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sub.waiter = undefined;
        resolve([]);
      }, waitMs);
      sub.waiter = { limit, resolve, timer };
    });
  }

  publish(msg: CameraNotification): void {
    this.sweep();
    for (const sub of this.subs.values()) {
      sub.queue.push(msg);
      if (sub.queue.length > MAX_QUEUE) sub.queue.shift();
      const w = sub.waiter;
      if (w) {
        clearTimeout(w.timer);
        sub.waiter = undefined;
        w.resolve(sub.queue.splice(0, w.limit));
      }
    }
  }

  /** Answers every held pull with nothing and forgets all subscriptions (camera shutting down). */
  clear(): void {
    for (const sub of this.subs.values()) this.release(sub);
    this.subs.clear();
  }

  get size(): number {
    return this.subs.size;
  }

  private live(id: string): Subscription | undefined {
    const sub = this.subs.get(id);
    if (!sub) return undefined;
    if (sub.terminationAt <= this.now()) {
      this.release(sub);
      this.subs.delete(id);
      return undefined;
    }
    return sub;
  }

  private release(sub: Subscription): void {
    const w = sub.waiter;
    if (!w) return;
    clearTimeout(w.timer);
    sub.waiter = undefined;
    w.resolve([]);
  }

  private sweep(): void {
    const t = this.now();
    for (const sub of this.subs.values()) {
      if (sub.terminationAt <= t) {
        this.release(sub);
        this.subs.delete(sub.id);
      }
    }
  }
}
