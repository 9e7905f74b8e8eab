/** Elderly-care fixtures for the API tests: a resident entry of the residents file, and users in guard teams. */
import { ADMIN_TOKEN, iso, type Harness } from '../api-harness.js';

const DAY = 24 * 3_600_000;

/** One resident: guard team `team` (with a phone) and a daughter, consent for `scope` given at `givenAt`. */
export const careResident = (id: string, wearable: string, team: string, scope: string[], givenAt = iso(-60 * DAY)) => ({
  id, name: `Resident ${id}`, wearable, unit: `u-${id}`,
  consent: { givenAt, givenBy: `Resident ${id}`, scope },
  contacts: [
    { name: `Guard lead ${team}`, role: 'guard_team', phone: '+86-755-0000-0001', team },
    { name: `Daughter of ${id}`, role: 'family', phone: '+86-138-0000-0002' },
  ],
  geofence: { polygon: [{ lat: 22.543, lon: 114.057 }, { lat: 22.544, lon: 114.057 }, { lat: 22.544, lon: 114.058 }] },
  quietHours: { start: '22:00', end: '06:00' },
});

export const residentsFile = (residents: unknown[]) => ({ version: 1, timeZone: 'Asia/Shanghai', residents });

/** Creates a user through the API (as the bootstrap admin) and returns its token. */
export async function createUser(h: Harness, id: string, role: string, sites: '*' | string[], teams?: string[]): Promise<string> {
  const r = await h.call('POST', '/api/v1/users', ADMIN_TOKEN, { id, role, sites, ...(teams ? { teams } : {}) });
  if (r.status !== 201) throw new Error(`user ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

/**
 * The callers the care suites check scoping with (tokens): guards of site-a in team-1, in team-2 and in no
 * team, a team-1 viewer, and a team-1 guard of site-b.
 */
export async function careTeamUsers(h: Harness) {
  return {
    team1: await createUser(h, 'guard-t1', 'security', ['site-a'], ['team-1']),
    team2: await createUser(h, 'guard-t2', 'security', ['site-a'], ['team-2']),
    noTeam: await createUser(h, 'guard-none', 'security', ['site-a']),
    viewer1: await createUser(h, 'viewer-t1', 'viewer', ['site-a'], ['team-1']),
    otherSite: await createUser(h, 'guard-b-t1', 'security', ['site-b'], ['team-1']),
  };
}
