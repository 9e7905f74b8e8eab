/**
 * Token bucket per client: `perSecond` sustained, `burst` at once. A fire panel reporting a whole loop
 * going into alarm sends a burst, so the burst is deliberately generous; the limit is there to stop a
 * runaway device from starving the others, not to shape normal traffic. The bucket itself is the
 * runtime's, shared with the pre-authentication limits.
 */
export { TokenBucket, type RateLimitOptions } from '@safe-community/runtime';
