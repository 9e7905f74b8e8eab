/**
 * Loads and validates the vendor profiles. A profile that fails its schema stops the load with the file,
 * path and reason: a half-understood vendor mapping is worse than a device that refuses to start.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validator, ValidationError } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import { Profile } from './schema.js';
import { telemetryMetric } from './metrics.js';

export const PROFILES_DIR = fileURLToPath(new URL('../profiles', import.meta.url));

export const profileValidator = validator('DeviceProfile', Profile);

/**
 * Checks that the schema cannot express (or not with a useful message): the id matches the file, metric
 * names are one word (the edge adds the kind), and commands come with a read-back rule.
 */
export function checkProfile(value: unknown, fileName?: string): Profile {
  const p = profileValidator.assert(value);
  if (fileName !== undefined && fileName !== `${p.id}.json`) {
    throw new CodedError('ERR_PROFILE_NAME', `profile "${p.id}" must live in ${p.id}.json, not ${fileName}`);
  }
  for (const rule of p.inbound) {
    if (rule.emit !== 'telemetry') continue;
    for (const m of rule.metrics) {
      if (m.metric.includes('.')) {
        const word = m.metric.slice(m.metric.lastIndexOf('.') + 1);
        throw new CodedError('ERR_PROFILE_METRIC',
          `profile "${p.id}" metric "${m.metric}": name the measurement in one word ("${word}"); the edge sends it as ${telemetryMetric(p.kind, word)}`);
      }
    }
  }
  if (p.commands && !p.inbound.some((r) => r.emit === 'readback')) {
    throw new CodedError('ERR_PROFILE_READBACK', `profile "${p.id}" has commands but no read-back rule to confirm them`);
  }
  if (p.codec.type !== 'json' && p.commands) {
    for (const [action, tpl] of Object.entries(p.commands.actions)) {
      const ok = p.codec.type === 'delimited' ? 'fields' in tpl : 'bytes' in tpl;
      if (!ok) throw new CodedError('ERR_PROFILE_COMMAND', `profile "${p.id}" command "${action}" does not fit the ${p.codec.type} codec`);
    }
  } else if (p.commands) {
    for (const [action, tpl] of Object.entries(p.commands.actions)) {
      if (!('json' in tpl)) throw new CodedError('ERR_PROFILE_COMMAND', `profile "${p.id}" command "${action}" does not fit the json codec`);
    }
  }
  return p;
}

/** Reads every `*.json` in the folder; the map is keyed by profile id. */
export async function loadProfiles(dir: string = PROFILES_DIR): Promise<Map<string, Profile>> {
  const out = new Map<string, Profile>();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const path = join(dir, file);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new CodedError('ERR_PROFILE_READ', `cannot read profile ${path}`, { cause: err });
    }
    try {
      const p = checkProfile(value, file);
      out.set(p.id, p);
    } catch (err) {
      const why = err instanceof ValidationError ? err.message : (err as Error).message;
      throw new CodedError('ERR_PROFILE_INVALID', `${path}: ${why}`, { cause: err });
    }
  }
  return out;
}
