/**
 * Decode limits: what a parsed JSON value may hold before it reaches a schema, a store or a log. A valid-
 * looking envelope with a payload nested 5,000 levels deep (about 10 KB) passed the schema and then failed
 * every write, forever (issue 13); PostgreSQL text cannot hold NUL at all. The walk is iterative, so the
 * check itself cannot run out of stack on the input it is there to refuse.
 */
import type { Issue } from './errors.js';

export interface DecodeLimits {
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Characters in one string (keys included). */
  maxStringLength: number;
  /** Items in one array. */
  maxArrayLength: number;
  /** Keys in one object. */
  maxKeys: number;
  /** Refuse NUL (U+0000) in strings and keys: PostgreSQL text and jsonb cannot store it. */
  noNul: boolean;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxArrayLength: 10_000,
  maxKeys: 1_000,
  noNul: true,
});

const MAX_ISSUES = 3;

/**
 * Whether a value is within the limits, without naming where it is not. The ingest runs this on every
 * record of every envelope, so it allocates nothing per node: no path strings (the walk that names the
 * path ran at 8 % of the ingest's CPU in the issue #19 profile, most of it building paths of valid
 * records), only the two stacks. Still iterative: depth is bounded by the limit, not by the call stack.
 */
export function withinDecodeLimits(value: unknown, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength || (limits.noNul && v.includes('\u0000'))) return false;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limits.maxDepth) return false;
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) return false;
      for (let i = 0; i < v.length; i++) {
        values.push(v[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    let keys = 0;
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (++keys > limits.maxKeys || k.length > limits.maxStringLength || (limits.noNul && k.includes('\u0000'))) return false;
      values.push((v as Record<string, unknown>)[k]);
      depths.push(depth + 1);
    }
  }
  return true;
}

/** Issues (path + reason) of a value past the limits; empty when it is within them. */
export function decodeIssues(value: unknown, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Issue[] {
  // Nearly every value is within the limits: the cheap walk says so; only a refused one is walked again for its paths.
  if (withinDecodeLimits(value, limits)) return [];
  const issues: Issue[] = [];
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 0 }];
  const checkString = (s: string, path: string): void => {
    if (s.length > limits.maxStringLength) issues.push({ path, reason: `string of ${s.length} characters exceeds ${limits.maxStringLength}` });
    else if (limits.noNul && s.includes('\u0000')) issues.push({ path, reason: 'string holds a NUL character' });
  };
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      checkString(v, path);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limits.maxDepth) {
      issues.push({ path, reason: `nested deeper than ${limits.maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) {
        issues.push({ path, reason: `array of ${v.length} items exceeds ${limits.maxArrayLength}` });
        continue;
      }
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}/${i}`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.length > limits.maxKeys) {
      issues.push({ path, reason: `object of ${keys.length} keys exceeds ${limits.maxKeys}` });
      continue;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const p = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      checkString(k, p);
      stack.push({ v: (v as Record<string, unknown>)[k], path: p, depth: depth + 1 });
    }
  }
  return issues.slice(0, MAX_ISSUES);
}
