import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { ValidationError, type Issue } from './errors.js';
import { decodeIssues, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './limits.js';
import { UUID_RE } from './common.js';

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID_RE.test(v));

const MAX_ISSUES = 10;

export interface Validator<T extends TSchema> {
  readonly name: string;
  readonly schema: T;
  /** True when the value matches; narrows the type. */
  check(value: unknown): value is Static<T>;
  /** Up to ten issues (path + reason); empty when the value is valid. */
  issues(value: unknown): Issue[];
  /** Returns the value typed, or throws ValidationError with path + reason. */
  assert(value: unknown): Static<T>;
}

/** Compiles a schema once; checks are then a plain function call (the ingest checks every message). */
export function validator<T extends TSchema>(name: string, schema: T): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  const issues = (value: unknown): Issue[] => {
    const out: Issue[] = [];
    for (const e of compiled.Errors(value)) {
      out.push({ path: e.path, reason: e.message });
      if (out.length >= MAX_ISSUES) break;
    }
    return out;
  };
  return {
    name,
    schema,
    check: (value: unknown): value is Static<T> => compiled.Check(value),
    issues,
    assert(value: unknown): Static<T> {
      if (compiled.Check(value)) return value;
      throw new ValidationError(name, issues(value));
    },
  };
}

/**
 * Parses JSON text, turning a syntax error, or a value past the decode limits (depth, string and array
 * length, NUL), into the same ValidationError shape.
 */
export function parseJson(name: string, text: string | Buffer, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (err) {
    throw new ValidationError(name, [{ path: '', reason: `not JSON: ${(err as Error).message}` }]);
  }
  const issues = decodeIssues(value, limits);
  if (issues.length > 0) throw new ValidationError(name, issues);
  return value;
}
