/**
 * Users, stored with hashed tokens (api_users, migration 0030). Edge credentials are in edges.ts.
 *
 * Bootstrap without a CLI: when `adminToken` is set (ADMIN_TOKEN in the environment), start() makes sure a
 * user `adminUser` with role admin on every site holds exactly that token. Changing ADMIN_TOKEN and
 * restarting rotates it; removing it leaves the stored user as it was.
 */
import { CodedError, createLogger, type Logger } from '@safe-community/runtime';
import { hashToken, newToken } from './tokens.js';
import { ROLES, type Actor, type Db, type Role, type UserRow } from './types.js';

export interface DirectoryOptions {
  adminToken?: string | undefined;
  adminUser?: string;
  logger?: Logger;
}

export interface UserRecord {
  id: string;
  role: Role;
  sites: readonly string[] | '*';
  /** Guard teams (elderly care): members read the location history of their team's residents. */
  teams: readonly string[];
  createdAt: string;
  createdBy: string | null;
  disabled: boolean;
}


const MIN_ADMIN_TOKEN = 24;
const COLUMNS = 'id, role, sites, teams, created_at, created_by, disabled';

/** Team ids are compared as given; duplicates are dropped so a membership is stored once. */
const normTeams = (teams: readonly string[] | undefined): string[] => [...new Set(teams ?? [])];

const toRecord = (r: UserRow): UserRecord => ({
  id: r.id,
  role: r.role,
  sites: r.sites === null ? '*' : r.sites,
  teams: r.teams ?? [],
  createdAt: new Date(r.created_at).toISOString(),
  createdBy: r.created_by,
  disabled: r.disabled,
});

export class UserDirectory {
  private readonly log: Logger;

  constructor(private readonly db: Db, private readonly opts: DirectoryOptions = {}) {
    this.log = opts.logger ?? createLogger({ name: 'auth' });
  }

  async start(): Promise<void> {
    const token = this.opts.adminToken;
    if (!token) return;
    // A short bootstrap token would be the weakest secret of the whole system; refuse to start with one.
    if (token.length < MIN_ADMIN_TOKEN) {
      throw new CodedError('ERR_CONFIG', `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN} characters`);
    }
    const user = this.opts.adminUser ?? 'admin';
    await this.db.query(
      `INSERT INTO api_users (id, role, sites, token_hash, created_by) VALUES ($1, 'admin', NULL, $2, 'bootstrap')
       ON CONFLICT (id) DO UPDATE SET role = 'admin', sites = NULL, token_hash = EXCLUDED.token_hash, disabled = false`,
      [user, hashToken(token)],
    );
    this.log.info({ user }, 'bootstrap admin ensured from ADMIN_TOKEN');
  }

  async stop(): Promise<void> {
    // Nothing held: every call is one query on the caller's store.
  }

  /** The actor holding this token; null for an unknown or disabled token. */
  async authenticate(token: string): Promise<Actor | null> {
    const rows = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM api_users WHERE token_hash = $1`,
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row || row.disabled) return null;
    // teams only when the user has some: the actor of a user outside every team looks as it always did.
    return { user: row.id, role: row.role, sites: row.sites === null ? '*' : row.sites, ...(row.teams?.length ? { teams: row.teams } : {}) };
  }

  /** Creates a user and returns its token; the token is shown once and only its hash is kept. */
  async createUser(input: { id: string; role: Role; sites: readonly string[] | '*'; teams?: readonly string[] }, createdBy: string): Promise<{ user: UserRecord; token: string }> {
    if (!ROLES.includes(input.role)) throw new CodedError('ERR_VALIDATION', `unknown role ${input.role}`);
    const token = newToken();
    const rows = await this.db.query<UserRow>(
      `INSERT INTO api_users (id, role, sites, teams, token_hash, created_by) VALUES ($1, $2, $3, $4::text[], $5, $6)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [input.id, input.role, input.sites === '*' ? null : [...input.sites], normTeams(input.teams), hashToken(token), createdBy],
    );
    const row = rows[0];
    if (!row) throw new CodedError('ERR_CONFLICT', `user ${input.id} exists`);
    return { user: toRecord(row), token };
  }

  /** A new token for an existing user; the old one stops working at once. */
  async rotateToken(id: string): Promise<string> {
    const token = newToken();
    const rows = await this.db.query('UPDATE api_users SET token_hash = $2 WHERE id = $1 RETURNING id', [id, hashToken(token)]);
    if (rows.length === 0) throw new CodedError('ERR_NOT_FOUND', `no user ${id}`);
    return token;
  }

  async setDisabled(id: string, disabled: boolean): Promise<UserRecord> {
    const rows = await this.db.query<UserRow>(
      `UPDATE api_users SET disabled = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, disabled],
    );
    const row = rows[0];
    if (!row) throw new CodedError('ERR_NOT_FOUND', `no user ${id}`);
    return toRecord(row);
  }

  /** Replaces the user's guard teams; takes effect on their next request (tokens are looked up every time). */
  async setTeams(id: string, teams: readonly string[]): Promise<UserRecord> {
    const rows = await this.db.query<UserRow>(
      `UPDATE api_users SET teams = $2::text[] WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, normTeams(teams)],
    );
    const row = rows[0];
    if (!row) throw new CodedError('ERR_NOT_FOUND', `no user ${id}`);
    return toRecord(row);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM api_users WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM api_users ORDER BY id`);
    return rows.map(toRecord);
  }
}
