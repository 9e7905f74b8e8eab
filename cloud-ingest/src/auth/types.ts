/** Who is calling the API: a user with one role, on a list of sites or on all of them, in some guard teams. */
export type Role = 'admin' | 'security' | 'installer' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'security', 'installer', 'viewer'];

export interface Actor {
  user: string;
  role: Role;
  sites: readonly string[] | '*';
  /** Guard teams the user belongs to (elderly care): a resident's location history is shown to their team. */
  teams?: readonly string[];
}

/** The one thing the auth code needs from a database: the Store's query(), or anything shaped like it. */
export interface Db {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A row of api_users as the directory and sign-in read it (sites null: every site). */
export interface UserRow {
  id: string;
  role: Role;
  sites: string[] | null;
  teams: string[] | null;
  created_at: Date | string;
  created_by: string | null;
  disabled: boolean;
}
