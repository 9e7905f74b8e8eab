/**
 * Floods cost nothing (issue 13): 200 junk ingest requests stored 13.4 MB in 0.8 s, and 1,300 API requests
 * with made-up tokens got no 429 and wrote 1,300 audit rows: @fastify/rate-limit adds its check to each
 * route, so it runs after the scope's authentication hook, and it is keyed per token, so every made-up token
 * had a fresh budget. Everything here runs before authentication and is keyed by source address:
 *
 * - API: each failed authentication takes a token from the address's bucket; an address that runs dry is
 *   answered 429 before its token is even looked at, until the bucket refills.
 * - HTTP ingest: a request rate per address, checked before the edge's credentials and the body.
 * - HTTP ingest junk (an envelope that is not one): only a few per address are recorded in dead_letters;
 *   past that the answer is the same 400, but nothing is stored.
 *
 * Refusals are counted for /metrics instead of written anywhere.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyedBuckets, systemClock, type Clock, type RateLimitOptions } from '@safe-community/runtime';

export interface FloodOptions {
  /** Failed API authentications per address. */
  authFailures: RateLimitOptions;
  /** HTTP ingest requests per address. */
  ingest: RateLimitOptions;
  /** Invalid envelopes per address that are recorded in dead_letters. */
  junk: RateLimitOptions;
  clock?: Clock;
}

export interface FloodCounts {
  /** API requests refused 401 (no or unknown token). */
  apiUnauthenticated: number;
  /** API requests refused 429 before authentication. */
  apiThrottled: number;
  /** HTTP ingest requests refused 429 before authentication. */
  ingestThrottled: number;
  /** Invalid envelopes answered 400 but not recorded (past the address's share). */
  junkNotRecorded: number;
}

export const DEFAULT_FLOOD: Readonly<Omit<FloodOptions, 'clock'>> = Object.freeze({
  authFailures: { perSecond: 0.5, burst: 30 },
  ingest: { perSecond: 50, burst: 200 },
  junk: { perSecond: 1, burst: 20 },
});

export class FloodGuard {
  readonly counts: FloodCounts = { apiUnauthenticated: 0, apiThrottled: 0, ingestThrottled: 0, junkNotRecorded: 0 };
  private readonly failures: KeyedBuckets;
  private readonly ingest: KeyedBuckets;
  private readonly junk: KeyedBuckets;
  /** Addresses whose failure bucket ran dry, until when (ms). */
  private readonly blocked = new Map<string, number>();
  private readonly clock: Clock;
  private readonly blockMs: number;

  constructor(opts: FloodOptions = DEFAULT_FLOOD) {
    this.clock = opts.clock ?? systemClock;
    const now = (): number => this.clock.now();
    this.failures = new KeyedBuckets(opts.authFailures, now);
    this.ingest = new KeyedBuckets(opts.ingest, now);
    this.junk = new KeyedBuckets(opts.junk, now);
    // Long enough for one token to come back.
    this.blockMs = Math.ceil(1000 / Math.max(opts.authFailures.perSecond, 0.001));
  }

  /** onRequest hook of the API scope, before authentication. */
  readonly apiBefore = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const until = this.blocked.get(req.ip);
    if (until === undefined) return undefined;
    if (until > this.clock.now()) {
      this.counts.apiThrottled++;
      return reply.code(429).header('retry-after', String(Math.ceil((until - this.clock.now()) / 1000)))
        .send({ code: 'ERR_RATE_LIMITED', message: 'too many failed authentications from this address; retry later', requestId: req.id });
    }
    this.blocked.delete(req.ip);
    return undefined;
  };

  /** Called when an API request fails authentication. */
  apiFailed(address: string): void {
    this.counts.apiUnauthenticated++;
    if (!this.failures.take(address)) {
      // Bounded like the buckets: a flood of addresses cannot grow this map without end.
      if (this.blocked.size > 100_000) this.blocked.clear();
      this.blocked.set(address, this.clock.now() + this.blockMs);
    }
  }

  /** onRequest hook of the HTTP ingest route, before the edge's credentials and the body. */
  readonly ingestBefore = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (this.ingest.take(req.ip)) return undefined;
    this.counts.ingestThrottled++;
    return reply.code(429).send({ code: 'ERR_RATE_LIMITED', message: 'too many ingest requests from this address; retry later' });
  };

  /** Whether an invalid envelope from this address is recorded in dead_letters (else only counted). */
  recordJunk(address: string): boolean {
    if (this.junk.take(address)) return true;
    this.counts.junkNotRecorded++;
    return false;
  }
}
