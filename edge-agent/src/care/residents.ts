/**
 * Loads the residents file (schema in contracts: `ResidentsFile`), validated (unknown keys rejected,
 * defaults filled) and frozen, as every config in the agent is.
 */
import { readFile } from 'node:fs/promises';
import { ResidentsFile, residentsProblem } from '@safe-community/contracts';
import { CodedError, validateConfig } from '@safe-community/runtime';
import { parse as parseYaml } from 'yaml';

export { Contact, Resident, ResidentsFile, type LatLon } from '@safe-community/contracts';

/** Validates a parsed residents document; checks the schema cannot say (unique ids, one resident per wearable, zone). */
export function parseResidents(value: unknown, source = 'residents'): Readonly<ResidentsFile> {
  const file = validateConfig(source, ResidentsFile, value);
  const problem = residentsProblem(file);
  if (problem) throw new CodedError('ERR_CARE_RESIDENTS', `${source}: ${problem}`);
  return file;
}
/** Reads a residents file (`.yaml`/`.yml` or JSON). */
export async function loadResidents(path: string): Promise<Readonly<ResidentsFile>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CodedError('ERR_CARE_RESIDENTS', `cannot read residents file ${path}`, { cause: err });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new CodedError('ERR_CARE_RESIDENTS', `${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, { cause: err });
  }
  return parseResidents(value, path);
}
