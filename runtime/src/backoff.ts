import { CodedError } from './errors.js';

export interface BackoffOptions {
  /** First delay, ms. */
  initialMs: number;
  /** Upper bound on any delay, ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor?: number;
  /** 0..1: share of each delay that is randomised ("full jitter" at 1), so many edges do not reconnect in step. */
  jitter?: number;
  /** Injectable randomness for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with a cap and jitter. `next()` gives the delay before the next attempt;
 * `reset()` after a success. Pure: it never sleeps itself, so the caller's clock decides time.
 */
export class Backoff {
  private attempt = 0;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) {
      throw new CodedError('ERR_BACKOFF_OPTIONS', `backoff needs 0 < initialMs <= maxMs (got ${opts.initialMs}, ${opts.maxMs})`);
    }
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
    this.random = opts.random ?? Math.random;
  }

  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * this.factor ** this.attempt);
    this.attempt++;
    const spread = base * this.jitter;
    return Math.round(base - spread + spread * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
