/**
 * Comparing a presented secret (token hash, password hash, CSRF token, broker password) with the expected
 * one in constant time: `timingSafeEqual` alone throws on a length difference, so every caller needs the
 * length check first. Unequal lengths answer false at once; a length is not the secret.
 */
import { timingSafeEqual } from 'node:crypto';

export function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
