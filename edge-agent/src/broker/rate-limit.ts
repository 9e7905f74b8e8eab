/**
 * Token bucket per client: `perSecond` sustained, `burst` at once. A fire panel reporting a whole loop
 * going into alarm sends a burst, so the burst is deliberately generous; the limit is there to stop a
 * runaway device from starving the others, not to shape normal traffic.
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
