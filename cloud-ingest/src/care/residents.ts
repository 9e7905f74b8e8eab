/**
 * The cloud's copy of each site's residents file (elderly care): the edge runs its offline rules from the
 * file, the cloud needs the same file to know whom to call for a resident's incident (their guard team,
 * then family, in the order listed) and who may read their location history. A save replaces the site's
 * whole enrolment in one transaction: a resident missing from the new file is removed (consent ends with
 * enrolment).
 */
import { ResidentsFile, residentsProblem, type Contact, type Resident } from '@safe-community/contracts';
import { CodedError, validateConfig } from '@safe-community/runtime';
import { asDb, type DbSource } from '../alarms/db.js';
import type { Tx } from '../store/db.js';

export interface CareResident {
  site: string;
  id: string;
  name: string;
  wearable: string;
  building: string | null;
  unit: string | null;
  /** The guard team assigned: the team of the first guard_team contact. */
  team: string | null;
  contacts: Contact[];
  consent: Resident['consent'];
  updatedAt: string;
  updatedBy: string | null;
}

/** Validates a residents document the way the edge does (ERR_CONFIG naming the key, or ERR_CARE_RESIDENTS). */
export function parseResidentsFile(value: unknown, source = 'residents'): Readonly<ResidentsFile> {
  const file = validateConfig(source, ResidentsFile, value);
  const problem = residentsProblem(file);
  if (problem) throw new CodedError('ERR_CARE_RESIDENTS', `${source}: ${problem}`);
  return file;
}

export const teamOf = (r: Pick<Resident, 'contacts'>): string | null =>
  r.contacts.find((c) => c.role === 'guard_team' && c.team)?.team ?? null;

/** Replaces the site's enrolment with the file's residents; returns how many were saved and removed. */
export async function saveResidents(src: DbSource, site: string, value: unknown, by: string, at = new Date().toISOString()): Promise<{ saved: number; removed: number }> {
  const file = parseResidentsFile(value);
  return asDb(src).tx(async (tx) => {
    const ids = file.residents.map((r) => r.id);
    const removed = (await tx.query('DELETE FROM care_residents WHERE site = $1 AND NOT (id = ANY($2::text[])) RETURNING id', [site, ids])).rows.length;
    // A wearable moved between two residents in one save must not trip UNIQUE (site, wearable) half way.
    await tx.query('UPDATE care_residents SET wearable = id || \'~\' || wearable WHERE site = $1', [site]);
    for (const r of file.residents) {
      await tx.query(
        `INSERT INTO care_residents (site, id, name, wearable, building, unit, team, contacts, consent, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)
         ON CONFLICT (site, id) DO UPDATE SET name = EXCLUDED.name, wearable = EXCLUDED.wearable, building = EXCLUDED.building,
           unit = EXCLUDED.unit, team = EXCLUDED.team, contacts = EXCLUDED.contacts, consent = EXCLUDED.consent,
           updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
        [site, r.id, r.name, r.wearable, r.building ?? null, r.unit ?? null, teamOf(r), JSON.stringify(r.contacts), JSON.stringify(r.consent), at, by],
      );
    }
    return { saved: file.residents.length, removed };
  });
}

/** A care_residents row; jsonb comes back parsed from both backends, text when a caller cast it. */
type CareResidentRow = {
  site: string; id: string; name: string; wearable: string; building: string | null; unit: string | null; team: string | null;
  contacts: Contact[] | string; consent: Resident['consent'] | string; updated_at: Date | string; updated_by: string | null;
};

const parsed = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) as T : v);

const toResident = (row: CareResidentRow): CareResident => ({
  site: row.site,
  id: row.id,
  name: row.name,
  wearable: row.wearable,
  building: row.building ?? null,
  unit: row.unit ?? null,
  team: row.team ?? null,
  contacts: parsed(row.contacts),
  consent: parsed(row.consent),
  updatedAt: new Date(row.updated_at).toISOString(),
  updatedBy: row.updated_by ?? null,
});

/** One resident, inside a transaction (escalation reads the contacts while it holds the incident). */
export async function findResident(tx: Tx, site: string, id: string): Promise<CareResident | undefined> {
  const row = (await tx.query<CareResidentRow>('SELECT * FROM care_residents WHERE site = $1 AND id = $2', [site, id])).rows[0];
  return row ? toResident(row) : undefined;
}

/** The residents of some sites (all with '*'), optionally only those of some guard teams, by site then id. */
export async function listResidents(src: DbSource, filter: { sites: readonly string[] | '*'; teams?: readonly string[] }): Promise<CareResident[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.sites !== '*') {
    params.push([...filter.sites]);
    where.push(`site = ANY($${params.length}::text[])`);
  }
  if (filter.teams) {
    params.push([...filter.teams]);
    where.push(`team = ANY($${params.length}::text[])`);
  }
  const rows = (await asDb(src).query<CareResidentRow>(`SELECT * FROM care_residents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY site, id`, params)).rows;
  return rows.map(toResident);
}
