/**
 * Bounds the work a connection can cost before it is authenticated (issue 13: 1,000 CONNECTs with unknown
 * ids, each paying a full scrypt hash, delayed a real device's CONNACK by 18–23 s).
 *
 * - Per source address: a token bucket of CONNECT attempts; past it the attempt is refused at once.
 * - Password hashes run at most `concurrency` at a time, from a bounded queue; life-safety devices
 *   (fire panels, gates, barriers) are served before everyone else, and an attempt whose socket has
 *   gone while it waited is dropped instead of hashed.
 * - Refusals that need no hash (unknown id, a wrong password caught by the cached verifier) are answered
 *   after the typical hash time, by a timer: timing stays uniform without spending the CPU.
 */
import { KeyedBuckets, type RateLimitOptions } from '@safe-community/runtime';

export interface AuthGateOptions {
  /** Password hashes running at once. */
  concurrency: number;
  /** Attempts waiting for a hash, per class (life-safety, other); past it an attempt is refused as busy. */
  maxQueue: number;
  /** CONNECT attempts per source address; false disables. */
  perSource: RateLimitOptions | false;
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
}

interface Waiting {
  run: () => Promise<boolean>;
  alive: () => boolean;
  resolve: (r: GateOutcome) => void;
  reject: (err: unknown) => void;
}

/** 'ok' / 'refused': the credentials decided; 'busy': queue full; 'gone': the socket closed while waiting. */
export type GateOutcome = 'ok' | 'refused' | 'busy' | 'gone';

export class AuthGate {
  private readonly urgent: Waiting[] = [];
  private readonly normal: Waiting[] = [];
  private active = 0;
  private readonly sources: KeyedBuckets | null;
  /** A running mean of hash times, the delay of refusals that need no hash. Starts near scrypt N=2^14 here. */
  private hashMs = 50;
  readonly counts = { rateLimited: 0, busy: 0, gone: 0, hashed: 0 };

  constructor(private readonly opts: AuthGateOptions) {
    this.sources = opts.perSource === false ? null : new KeyedBuckets(opts.perSource, opts.now);
  }

  /** False when this source is over its CONNECT rate (the attempt is refused without any hashing). */
  admitSource(address: string): boolean {
    if (!this.sources || this.sources.take(address)) return true;
    this.counts.rateLimited++;
    return false;
  }

  /** Waits for a hash slot and runs `hash` (true: credentials right). */
  verify(hash: () => Promise<boolean>, o: { urgent: boolean; alive: () => boolean }): Promise<GateOutcome> {
    // Each class has its own bound: someone trying a fire panel's id cannot grow the urgent queue without end.
    const queue = o.urgent ? this.urgent : this.normal;
    if (queue.length >= this.opts.maxQueue) {
      this.counts.busy++;
      return Promise.resolve('busy');
    }
    return new Promise((resolve, reject) => {
      queue.push({ run: hash, alive: o.alive, resolve, reject });
      this.pump();
    });
  }

  /** Resolves after about one hash time: the answer to a refusal that needed no hash. */
  uniformDelay(): Promise<void> {
    return new Promise((resolve) => this.opts.setTimer(resolve, this.hashMs));
  }

  get queued(): number {
    return this.urgent.length + this.normal.length;
  }

  private pump(): void {
    while (this.active < this.opts.concurrency) {
      const next = this.urgent.shift() ?? this.normal.shift();
      if (!next) return;
      if (!next.alive()) {
        this.counts.gone++;
        next.resolve('gone');
        continue;
      }
      this.active++;
      const t0 = this.opts.now();
      next.run().then(
        (ok) => {
          this.counts.hashed++;
          this.hashMs = this.hashMs * 0.9 + Math.max(1, this.opts.now() - t0) * 0.1;
          next.resolve(ok ? 'ok' : 'refused');
        },
        (err: unknown) => next.reject(err),
      ).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
