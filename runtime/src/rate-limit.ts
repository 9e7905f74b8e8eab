/**
 * Token buckets: `perSecond` sustained, `burst` at once. One per device on the edge broker, one per source
 * address for work done before authentication (broker CONNECTs, API and ingest requests, issue 13).
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly opts: RateLimitOptions, private readonly now: () => number) {
    this.tokens = opts.burst;
    this.last = now();
  }

  /** Takes one token; false when the client is over its rate. */
  take(): boolean {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last) / 1000;
    this.last = t;
    this.tokens = Math.min(this.opts.burst, this.tokens + elapsed * this.opts.perSecond);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Buckets idle this long are full again anyway: forgotten, so a flood of addresses cannot grow the map for ever. */
const IDLE_MS = 60_000;

/** One bucket per key (a source address), created on first use and forgotten when idle. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; seen: number }>();
  private lastSweep = 0;

  constructor(private readonly opts: RateLimitOptions, private readonly now: () => number = Date.now) {}

  take(key: string): boolean {
    const now = this.now();
    if (now - this.lastSweep > IDLE_MS) {
      this.lastSweep = now;
      for (const [k, v] of this.buckets) if (now - v.seen > IDLE_MS) this.buckets.delete(k);
    }
    let entry = this.buckets.get(key);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.opts, this.now), seen: now };
      this.buckets.set(key, entry);
    }
    entry.seen = now;
    return entry.bucket.take();
  }

  get size(): number {
    return this.buckets.size;
  }
}
