/**
 * The edge's check of what comes down from the cloud (issue 12, item 3). With a secret configured, a down
 * message is acted on only when it is a SignedDown for this edge whose MAC was made with this edge's key,
 * whose time is inside the clock window, and whose id has not been seen: so neither another broker client,
 * nor a broker that is misconfigured or taken over, nor a recording of a real command played again, can
 * open a gate or move the outbox.
 *
 * Without a secret (a development edge, logged at start) signed messages are unwrapped unchecked and plain
 * ones are accepted, as before this check existed.
 */
import { downMacKey, downMacValid, validators } from '@safe-community/contracts';
import { systemClock, type Clock } from '@safe-community/runtime';

export type DownVerdict =
  | { kind: 'ok'; body: string }
  | { kind: 'refused'; code: DownRefusalCode; reason: string };

export type DownRefusalCode = 'ERR_DOWN_UNSIGNED' | 'ERR_DOWN_MAC' | 'ERR_DOWN_EDGE' | 'ERR_DOWN_STALE' | 'ERR_DOWN_REPLAY';

export interface DownVerifierOptions {
  edge: string;
  /** The edge's own secret; unset: development mode (nothing is verified). */
  secret?: string | undefined;
  /** Largest difference between the cloud's time in a message and this edge's clock. Default 120 s. */
  maxSkewMs?: number;
  clock?: Clock;
}

/** Seen ids are forgotten once older than the window; past this many, the oldest go first. */
const MAX_SEEN = 100_000;

export class DownVerifier {
  private readonly key: string | null;
  private readonly skew: number;
  private readonly clock: Clock;
  /** Message id → its ts, in arrival order (a Map keeps insertion order, so pruning walks from the oldest). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly opts: DownVerifierOptions) {
    this.key = opts.secret ? downMacKey(opts.secret) : null;
    this.skew = opts.maxSkewMs ?? 120_000;
    this.clock = opts.clock ?? systemClock;
  }

  /** Whether down messages are authenticated (a secret is configured). */
  get enforcing(): boolean {
    return this.key !== null;
  }

  check(text: string): DownVerdict {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON at all: the parser after this one names the reason; only an enforcing edge refuses here.
      return this.key ? { kind: 'refused', code: 'ERR_DOWN_UNSIGNED', reason: 'not a signed down message (not JSON)' } : { kind: 'ok', body: text };
    }
    const signed = validators.signedDown.check(value) ? value : null;
    if (!this.key) return { kind: 'ok', body: signed ? signed.body : text };
    if (!signed) return { kind: 'refused', code: 'ERR_DOWN_UNSIGNED', reason: 'down message without a valid signature envelope' };
    if (signed.edge !== this.opts.edge) return { kind: 'refused', code: 'ERR_DOWN_EDGE', reason: `signed for edge ${signed.edge}, this is ${this.opts.edge}` };
    if (!downMacValid(this.key, signed)) return { kind: 'refused', code: 'ERR_DOWN_MAC', reason: "MAC not made with this edge's key" };
    const now = this.clock.now();
    if (Math.abs(now - signed.ts) > this.skew) {
      return { kind: 'refused', code: 'ERR_DOWN_STALE', reason: `message time ${new Date(signed.ts).toISOString()} is outside ±${this.skew} ms of this edge's clock` };
    }
    if (this.seen.has(signed.id)) return { kind: 'refused', code: 'ERR_DOWN_REPLAY', reason: `message ${signed.id} was already accepted` };
    this.remember(signed.id, signed.ts, now);
    return { kind: 'ok', body: signed.body };
  }

  private remember(id: string, ts: number, now: number): void {
    // An id older than the window would be refused as stale anyway, so it need not be remembered longer.
    for (const [old, at] of this.seen) {
      if (at >= now - this.skew && this.seen.size < MAX_SEEN) break;
      this.seen.delete(old);
    }
    this.seen.set(id, ts);
  }
}
