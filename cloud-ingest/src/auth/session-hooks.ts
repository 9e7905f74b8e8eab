/**
 * People in a browser authenticate with the session cookie; machines keep `Authorization: Bearer`. A request
 * that carries a bearer header is judged by it alone (a stray cookie never widens it). A session may read
 * freely, but every write must send the session's CSRF token in `x-csrf-token`: a page of another site can
 * make the browser send the cookie, never read the token (issue 15).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CodedError } from '@safe-community/runtime';
import { userAuthHook } from './hooks.js';
import type { UserDirectory } from './directory.js';
import { csrfMatches, type SessionStore } from './sessions.js';

export const SESSION_COOKIE = 'sc_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One cookie's value from a Cookie header; null when absent. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/**
 * The Set-Cookie value. SameSite=Lax, not Strict: a click on a Grafana link (another origin) must arrive
 * signed in; Lax still keeps the cookie off cross-site POSTs, and the CSRF token guards every write anyway.
 */
export function sessionCookie(secret: string, opts: { maxAgeSec: number; secure: boolean }): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(secret)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}${opts.secure ? '; Secure' : ''}`;
}

export const clearedSessionCookie = (secure: boolean): string => sessionCookie('', { maxAgeSec: 0, secure });

export function sessionOrBearerHook(users: UserDirectory, sessions: SessionStore) {
  const bearer = userAuthHook(users);
  return async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (req.headers.authorization !== undefined) return bearer(req, reply);
    const secret = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!secret) return bearer(req, reply);
    const session = await sessions.lookup(secret);
    if (!session) throw new CodedError('ERR_UNAUTHENTICATED', 'the session has ended; sign in again');
    // Set before the CSRF check: a refused write is audited under the person it came in the name of.
    req.actor = session.actor;
    if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.headers['x-csrf-token'], session.csrf)) {
      throw new CodedError('ERR_FORBIDDEN', 'a write from a signed-in page needs its x-csrf-token');
    }
  };
}
