/**
 * Passwords for people who sign in in a browser. Unlike bearer tokens they are chosen by a person, so they
 * are stored with a slow, salted hash (scrypt, from node:crypto): a stolen table does not give them away.
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import { CodedError, sameSecret } from '@safe-community/runtime';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;
export const MIN_PASSWORD = 12;
const MAX_PASSWORD = 256;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Refuses passwords too short to be worth a slow hash, and absurdly long ones (bounded work per try). */
export function checkPasswordRules(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new CodedError('ERR_VALIDATION', `a password needs ${MIN_PASSWORD}..${MAX_PASSWORD} characters`);
  }
  return password;
}

/** `scrypt$N$r$p$salt$key` (base64url parts), so the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordRules(password);
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

// A fixed hash to check against when the user has no password (or does not exist), so the answer takes as
// long as a real check and a caller cannot tell which users exist by timing.
let decoy: Promise<string> | undefined;

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD) return false;
  const parts = (stored ?? '').split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    decoy ??= hashPassword('decoy-password-never-matches');
    const d = (await decoy).split('$');
    await scrypt(password, Buffer.from(d[4]!, 'base64url'), N, R, P);
    return false;
  }
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const want = Buffer.from(key, 'base64url');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return sameSecret(got, want);
}
