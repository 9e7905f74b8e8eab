/**
 * Edge identities (issue 12, item 1): each edge has its own secret, shown once, stored as a hash, and
 * rotatable without downtime (the previous secret stays valid for a grace period). The same secret logs the
 * edge in on the HTTP ingest and on the cloud broker; a key derived from it signs what the cloud sends down.
 *
 * Lookups on the ingest's hot path (an envelope's site, the down keys for its ack) are cached for a few
 * seconds; a rotation or a disable reaches every path within that time, well inside the grace period.
 */
import { downMacKey } from '@safe-community/contracts';
import { CodedError, systemClock, type Clock } from '@safe-community/runtime';
import { hashToken, matchesHash, newToken } from './tokens.js';
import type { Db } from './types.js';

/** Who an edge is, once it has proved it: the site comes from here, never from what it sends. */
export interface EdgeIdentity {
  edge: string;
  site: string;
}

export interface EdgeRecord extends EdgeIdentity {
  createdAt: string;
  disabled: boolean;
  /** Until when the secret before the last rotation is still accepted; null when none is. */
  previousUntil: string | null;
}

interface Row {
  edge: string;
  site: string;
  secret_hash: string;
  down_key: string | null;
  previous_hash: string | null;
  previous_down_key: string | null;
  previous_until: Date | string | null;
  disabled: boolean;
  created_at: Date | string;
}

export interface IssueOptions {
  /** Seconds the previous secret stays valid after a rotation; 0 ends it at once. Default 1 day. */
  graceS?: number;
  /** Who issued it, for the record. */
  by?: string;
  /** An edge registered on another site may be moved only when this is set (a global admin's act). */
  allowMove?: boolean;
}

/** Ids the cloud broker keeps for its own principals: no edge may be registered under them. */
export const RESERVED_EDGE_IDS: readonly string[] = ['ingest'];

const DEFAULT_GRACE_S = 24 * 3600;
const CACHE_MS = 5000;

export class EdgeDirectory {
  private readonly clock: Clock;
  private readonly cache = new Map<string, { at: number; row: Row | null }>();

  constructor(private readonly db: Db, opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  /**
   * Issues a new secret for `edge` on `site` and returns it; only its hash is kept. For an edge already
   * registered this is a rotation: the old secret stays valid for `graceS` seconds so the edge can be
   * switched over without a gap.
   */
  async issue(edge: string, site: string, opts: IssueOptions = {}): Promise<string> {
    if (RESERVED_EDGE_IDS.includes(edge)) throw new CodedError('ERR_VALIDATION', `edge id ${edge} is reserved for the cloud's own broker login`);
    const existing = await this.row(edge, true);
    if (existing && existing.site !== site && !opts.allowMove) {
      throw new CodedError('ERR_CONFLICT', `edge ${edge} is registered on another site; only a global admin may move it`);
    }
    const secret = newToken('edge');
    const graceS = opts.graceS ?? DEFAULT_GRACE_S;
    // A move to another site drops the old secret at once: it belonged to the other site's box.
    const keepPrevious = existing !== null && existing.site === site && graceS > 0 && !existing.disabled;
    await this.db.query(
      `INSERT INTO edge_credentials (edge, site, secret_hash, down_key, rotated_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (edge) DO UPDATE SET site = EXCLUDED.site, secret_hash = EXCLUDED.secret_hash, down_key = EXCLUDED.down_key,
         previous_hash = CASE WHEN $6::boolean THEN edge_credentials.secret_hash END,
         previous_down_key = CASE WHEN $6::boolean THEN edge_credentials.down_key END,
         previous_until = CASE WHEN $6::boolean THEN now() + make_interval(secs => $7::int) END,
         disabled = false, rotated_by = EXCLUDED.rotated_by, created_at = now()`,
      [edge, site, hashToken(secret), downMacKey(secret), opts.by ?? null, keepPrevious, graceS],
    );
    this.cache.delete(edge);
    return secret;
  }

  /** Refuses the edge everywhere (HTTP ingest, cloud broker) until a new secret is issued. */
  async disable(edge: string): Promise<void> {
    const rows = await this.db.query('UPDATE edge_credentials SET disabled = true WHERE edge = $1 RETURNING edge', [edge]);
    if (rows.length === 0) throw new CodedError('ERR_NOT_FOUND', `no edge ${edge}`);
    this.cache.delete(edge);
  }

  /** The edge's identity when the secret is its current one, or its previous one inside the grace period. */
  async authenticate(edge: string, secret: string): Promise<EdgeIdentity | null> {
    const row = await this.row(edge, true);
    if (!row || row.disabled) return null;
    const current = matchesHash(secret, row.secret_hash);
    const previous = !current && row.previous_hash !== null && this.inGrace(row) && matchesHash(secret, row.previous_hash);
    return current || previous ? { edge, site: row.site } : null;
  }

  /** The registered identity of an edge (cached): null when unknown or disabled. */
  async identity(edge: string): Promise<EdgeIdentity | null> {
    const row = await this.row(edge, false);
    return row && !row.disabled ? { edge, site: row.site } : null;
  }

  /** The keys the edge's down messages are signed with: its current one, and the previous one in grace. */
  async downKeys(edge: string): Promise<string[]> {
    const row = await this.row(edge, false);
    if (!row || row.disabled) return [];
    const keys = row.down_key ? [row.down_key] : [];
    if (row.previous_down_key && this.inGrace(row)) keys.push(row.previous_down_key);
    return keys;
  }

  /** Edges of these sites ('*': all), for the admin API. */
  async list(sites: readonly string[] | '*'): Promise<EdgeRecord[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM edge_credentials WHERE $1::text[] IS NULL OR site = ANY($1::text[]) ORDER BY site, edge`,
      [sites === '*' ? null : [...sites]],
    );
    return rows.map((r) => ({
      edge: r.edge, site: r.site, disabled: r.disabled, createdAt: new Date(r.created_at).toISOString(),
      previousUntil: r.previous_until && this.inGrace(r) ? new Date(r.previous_until).toISOString() : null,
    }));
  }

  private inGrace(row: Row): boolean {
    return row.previous_until !== null && new Date(row.previous_until).getTime() > this.clock.now();
  }

  private async row(edge: string, fresh: boolean): Promise<Row | null> {
    const hit = this.cache.get(edge);
    if (!fresh && hit && this.clock.now() - hit.at < CACHE_MS) return hit.row;
    const rows = await this.db.query<Row>('SELECT * FROM edge_credentials WHERE edge = $1', [edge]);
    const row = rows[0] ?? null;
    // Bounded: a flood of unknown edge ids must not grow the cache without end.
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(edge, { at: this.clock.now(), row });
    return row;
  }
}
