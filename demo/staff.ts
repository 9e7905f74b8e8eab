/**
 * The demo's people (issue 15: "nobody can sign in to the demo"): a guard of the demo site in the resident's
 * guard team, and, when no ADMIN_TOKEN is given, an admin. Each gets a password (DEMO_PASSWORD, else a
 * random one) and a one-time sign-in link, printed once by `npm start`. Users that already exist (a kept
 * PGlite folder or database) are left as they are, apart from a fresh link.
 */
import { randomBytes } from 'node:crypto';
import { SessionStore, UserDirectory, type Store } from '@safe-community/cloud-ingest';
import { errorCode } from '@safe-community/runtime';

export interface DemoLogin {
  user: string;
  role: string;
  /** Set when this start created the user (a password is only known then). */
  password: string | null;
  link: string;
}

export const DEMO_GUARD = 'guard-1';
export const DEMO_ADMIN = 'demo-admin';

export async function ensureDemoStaff(store: Store, o: { site: string; team: string; baseUrl: string; adminTokenGiven: boolean; password?: string | undefined }): Promise<DemoLogin[]> {
  const users = new UserDirectory(store);
  const sessions = new SessionStore(store);
  const wanted: Array<{ id: string; role: 'admin' | 'security'; sites: '*' | string[]; teams: string[] }> = [
    { id: DEMO_GUARD, role: 'security', sites: [o.site], teams: [o.team] },
    ...(o.adminTokenGiven ? [] : [{ id: DEMO_ADMIN, role: 'admin' as const, sites: '*' as const, teams: [] }]),
  ];
  const out: DemoLogin[] = [];
  for (const w of wanted) {
    let password: string | null = null;
    try {
      await users.createUser(w, 'demo');
      password = o.password ?? randomBytes(9).toString('base64url');
      await sessions.setPassword(w.id, password);
    } catch (err) {
      if (errorCode(err) !== 'ERR_CONFLICT') throw err;
    }
    const link = await sessions.issueLink(w.id, 'demo');
    out.push({ user: w.id, role: w.role, password, link: `${o.baseUrl}/sign-in?next=%2Fconsole#link=${link.token}` });
  }
  return out;
}
