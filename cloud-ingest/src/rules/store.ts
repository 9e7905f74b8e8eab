/** Rule set versions in `rule_sets`: every accepted version is kept (who loaded it, when); the highest is active. */
import { CodedError } from '@safe-community/runtime';
import type { Db } from '../store/db.js';
import type { RuleSetRow } from '../store/rows.js';
import { validateRuleSet, type RuleSet } from './schema.js';

export interface StoredRuleSet { version: number; loadedAt: string; loadedBy: string; body: RuleSet; }

export async function activeRuleSet(db: Db): Promise<StoredRuleSet | undefined> {
  const r = (await db.query<RuleSetRow>('SELECT version, loaded_at, loaded_by, body FROM rule_sets ORDER BY version DESC LIMIT 1')).rows[0];
  if (!r) return undefined;
  return { version: Number(r.version), loadedAt: new Date(r.loaded_at).toISOString(), loadedBy: String(r.loaded_by), body: validateRuleSet(r.body) };
}

export async function ruleSetVersions(db: Db): Promise<Array<Omit<StoredRuleSet, 'body'>>> {
  const rows = (await db.query<Omit<RuleSetRow, 'body'>>('SELECT version, loaded_at, loaded_by FROM rule_sets ORDER BY version')).rows;
  return rows.map((r) => ({ version: Number(r.version), loadedAt: new Date(r.loaded_at).toISOString(), loadedBy: String(r.loaded_by) }));
}

/** Stores a new version; ERR_RULES_VERSION when it does not exceed the active one (two editors racing). */
export async function saveRuleSet(db: Db, set: RuleSet, by: string, at: string): Promise<void> {
  const valid = validateRuleSet(set);
  await db.tx(async (tx) => {
    await tx.query('LOCK TABLE rule_sets IN EXCLUSIVE MODE');
    const cur = (await tx.query('SELECT max(version) AS v FROM rule_sets')).rows[0]?.v;
    if (cur !== null && cur !== undefined && valid.version <= Number(cur)) {
      throw new CodedError('ERR_RULES_VERSION', `rule set version ${valid.version} is not above the active version ${cur}`);
    }
    await tx.query('INSERT INTO rule_sets (version, loaded_at, loaded_by, body) VALUES ($1, $2, $3, $4::jsonb)', [valid.version, at, by, JSON.stringify(valid)]);
  });
}
