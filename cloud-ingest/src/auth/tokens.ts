/**
 * Bearer tokens and edge secrets. They are 32 random bytes, so a plain SHA-256 is enough to store them: there
 * is nothing to brute-force that a slow hash would protect (unlike a chosen password).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sameSecret } from '@safe-community/runtime';

export function newToken(prefix = 'sc'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function matchesHash(token: string, hash: string): boolean {
  return sameSecret(Buffer.from(hashToken(token), 'hex'), Buffer.from(hash, 'hex'));
}

/** `Authorization: Bearer <token>` → token; null when absent or another scheme. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
