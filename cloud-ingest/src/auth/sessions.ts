/**
 * Browser sessions for people (issue 15): sign in with a password or a one-time link an admin issued, get a
 * session whose secret travels only in an HTTP-only cookie, and a CSRF token the page sends back on every
 * write. Sessions expire, and are revoked by signing out, by an admin, or by disabling the user. Only hashes
 * of the cookie secret and of link tokens are stored (migration 0060).
 */
import { randomBytes } from 'node:crypto';
import { CodedError, sameSecret, systemClock, type Clock } from '@safe-community/runtime';
import { hashPassword, verifyPassword } from './passwords.js';
import { hashToken, newToken } from './tokens.js';
import type { Actor, Db, UserRow } from './types.js';

export interface SessionOptions {
  /** How long a session lasts from sign-in, seconds (default 12 h: one guard shift). */
  ttlSec?: number;
  /** How long a sign-in link may wait to be used, seconds (default 24 h). */
  linkTtlSec?: number;
  clock?: Clock;
}

export interface Session {
  actor: Actor;
  csrf: string;
  expiresAt: string;
}

export interface SignedIn extends Session {
  /** The cookie's value: handed to the browser once, never stored. */
  secret: string;
}

/** What sign-in reads of a user: who it is and whether it may still sign in. */
type Row = Pick<UserRow, 'id' | 'role' | 'sites' | 'teams' | 'disabled'>;

const refused = (): CodedError => new CodedError('ERR_UNAUTHENTICATED', 'the user name and password, or the link, are not valid');

export const toActor = (r: Row): Actor => ({ user: r.id, role: r.role, sites: r.sites === null ? '*' : r.sites, ...(r.teams?.length ? { teams: r.teams } : {}) });

export class SessionStore {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly linkTtlMs: number;

  constructor(private readonly db: Db, opts: SessionOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.ttlMs = (opts.ttlSec ?? 12 * 3600) * 1000;
    this.linkTtlMs = (opts.linkTtlSec ?? 24 * 3600) * 1000;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  /** Sets (or replaces) a user's password; their open sessions stay (revoke them separately if needed). */
  async setPassword(user: string, password: string): Promise<void> {
    const rows = await this.db.query('UPDATE api_users SET password_hash = $2 WHERE id = $1 RETURNING id', [user, await hashPassword(password)]);
    if (rows.length === 0) throw new CodedError('ERR_NOT_FOUND', `no user ${user}`);
  }

  /** A session for a user name and password; the same refusal for an unknown user, a wrong password or a disabled user. */
  async signInWithPassword(user: string, password: string): Promise<SignedIn> {
    const rows = await this.db.query<Row & { password_hash: string | null }>(
      'SELECT id, role, sites, teams, disabled, password_hash FROM api_users WHERE id = $1', [user]);
    const row = rows[0];
    const ok = await verifyPassword(password, row?.password_hash ?? null);
    if (!row || !ok || row.disabled) throw refused();
    return this.open(row, 'password');
  }

  /** Issues a one-time sign-in link token for a user (admin); only its hash is kept. */
  async issueLink(user: string, createdBy: string, ttlSec?: number): Promise<{ token: string; expiresAt: string }> {
    const token = newToken('sl');
    const expiresAt = new Date(this.now().getTime() + (ttlSec !== undefined ? ttlSec * 1000 : this.linkTtlMs)).toISOString();
    const rows = await this.db.query(
      `INSERT INTO sign_in_links (token_hash, user_id, created_by, created_at, expires_at)
       SELECT $1, id, $3, $4, $5 FROM api_users WHERE id = $2 RETURNING user_id`,
      [hashToken(token), user, createdBy, this.now().toISOString(), expiresAt]);
    if (rows.length === 0) throw new CodedError('ERR_NOT_FOUND', `no user ${user}`);
    return { token, expiresAt };
  }

  /** Spends a link: it works once, before it expires, for a user who is not disabled. */
  async signInWithLink(token: string): Promise<SignedIn> {
    if (typeof token !== 'string' || token.length > 200) throw refused();
    const now = this.now().toISOString();
    // One statement marks the link used and reads its user, so two tabs racing on one link get one session.
    const rows = await this.db.query<Row>(
      `WITH spent AS (
         UPDATE sign_in_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id)
       SELECT u.id, u.role, u.sites, u.teams, u.disabled FROM spent JOIN api_users u ON u.id = spent.user_id`,
      [hashToken(token), now]);
    const row = rows[0];
    if (!row || row.disabled) throw refused();
    return this.open(row, 'link');
  }

  /** The session behind a cookie secret; null when unknown, expired, revoked or its user is disabled. */
  async lookup(secret: string): Promise<Session | null> {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 200) return null;
    const rows = await this.db.query<Row & { csrf: string; expires_at: Date | string }>(
      `SELECT u.id, u.role, u.sites, u.teams, u.disabled, s.csrf, s.expires_at FROM staff_sessions s JOIN api_users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2`,
      [hashToken(secret), this.now().toISOString()]);
    const row = rows[0];
    if (!row || row.disabled) return null;
    return { actor: toActor(row), csrf: row.csrf, expiresAt: new Date(row.expires_at).toISOString() };
  }

  /** Signing out: the cookie's session stops working at once. */
  async revoke(secret: string): Promise<void> {
    await this.db.query('UPDATE staff_sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL', [hashToken(secret), this.now().toISOString()]);
  }

  /** An admin ends every session of a user (a lost phone, a guard who left); answers how many were open. */
  async revokeUser(user: string): Promise<number> {
    const rows = await this.db.query('UPDATE staff_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING user_id',
      [user, this.now().toISOString()]);
    return rows.length;
  }

  /** Removes sessions and links that can no longer be used (called by maintenance or at start). */
  async purge(): Promise<void> {
    const now = this.now().toISOString();
    await this.db.query('DELETE FROM staff_sessions WHERE expires_at < $1 OR revoked_at IS NOT NULL', [now]);
    await this.db.query('DELETE FROM sign_in_links WHERE expires_at < $1 OR used_at IS NOT NULL', [now]);
  }

  private async open(row: Row, how: 'password' | 'link'): Promise<SignedIn> {
    const secret = newToken('ss');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs).toISOString();
    await this.db.query(
      'INSERT INTO staff_sessions (id_hash, user_id, csrf, created_at, last_seen_at, expires_at, how) VALUES ($1, $2, $3, $4, $4, $5, $6)',
      [hashToken(secret), row.id, csrf, now.toISOString(), expiresAt, how]);
    return { secret, csrf, expiresAt, actor: toActor(row) };
  }
}

/** Constant-time comparison of the CSRF token a page sent with the session's. */
export function csrfMatches(sent: unknown, expected: string): boolean {
  return typeof sent === 'string' && sameSecret(Buffer.from(sent), Buffer.from(expected));
}
