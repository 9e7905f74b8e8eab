import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CodedError } from './errors.js';

/**
 * Validates a configuration once: defaults filled, unknown keys rejected, frozen. The error names each bad
 * key and, for a choice, the allowed values (Frigate's config and Fastify's option validation work this way).
 */
export function validateConfig<T extends TSchema>(what: string, schema: T, input: unknown): Readonly<Static<T>> {
  const value = Value.Default(schema, structuredClone(input ?? {})) as unknown;
  const problems: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const s = e.schema as { additionalProperties?: unknown; properties?: object; anyOf?: Array<{ const?: unknown }> };
    const unknown = s.additionalProperties === false && e.value && typeof e.value === 'object' && !Array.isArray(e.value)
      ? Object.keys(e.value as object).filter((k) => !(k in (s.properties ?? {})))
      : [];
    if (e.message === 'Unexpected property') {
      problems.push(`unknown key ${key}`);
    } else if (unknown.length > 0) {
      problems.push(`unknown key ${unknown.map((k) => (key === '(root)' ? k : `${key}.${k}`)).join(', ')}`);
    } else if (s.anyOf && s.anyOf.every((o) => o.const !== undefined)) {
      problems.push(`${key}: ${JSON.stringify(e.value)} is not allowed (allowed: ${s.anyOf.map((o) => JSON.stringify(o.const)).join(', ')})`);
    } else {
      problems.push(`${key}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)})`}`);
    }
    if (problems.length >= 8) break;
  }
  if (problems.length > 0) throw new CodedError('ERR_CONFIG', `invalid ${what} config: ${[...new Set(problems)].join('; ')}`);
  return deepFreeze(value as Static<T>);
}

export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
