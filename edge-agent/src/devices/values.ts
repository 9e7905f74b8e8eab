/** Reads canonical values out of decoded vendor fields, as a profile's ValueExpr says. */
import type { ValueExpr } from '@safe-community/firmware-configs';
import { DecodeError, type Fields } from './codecs.js';

/** Walks a dotted path through own properties only, so a crafted payload cannot reach prototypes. */
function lookup(fields: Fields, path: string): unknown {
  let cur: unknown = fields;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const BOOL: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };

function convert(name: string, v: unknown, as: string | undefined): unknown {
  switch (as) {
    case undefined:
      return v;
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw new DecodeError('ERR_DECODE_VALUE', `${name}: not a number`);
      return n;
    }
    case 'string':
      return String(v);
    case 'boolean': {
      const b = typeof v === 'boolean' ? v : BOOL[String(v)];
      if (b === undefined) throw new DecodeError('ERR_DECODE_VALUE', `${name}: not a boolean`);
      return b;
    }
    case 'iso_time': {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isFinite(t)) throw new DecodeError('ERR_DECODE_VALUE', `${name}: not an ISO time`);
      return new Date(t).toISOString();
    }
    case 'epoch_s':
    case 'epoch_ms': {
      const n = Number(v);
      const ms = as === 'epoch_s' ? n * 1000 : n;
      // Year 2000..2100: anything else is a device clock that was never set.
      if (!Number.isFinite(ms) || ms < 946_684_800_000 || ms > 4_102_444_800_000) throw new DecodeError('ERR_DECODE_VALUE', `${name}: not a plausible time`);
      return new Date(ms).toISOString();
    }
    default:
      throw new DecodeError('ERR_DECODE_VALUE', `${name}: unknown conversion ${as}`);
  }
}

/** The value, or undefined when an optional field is absent. Throws DecodeError when a required one is. */
export function evalValue(expr: ValueExpr, fields: Fields): unknown {
  if (typeof expr === 'string') {
    const v = lookup(fields, expr);
    if (v === undefined || v === null) throw new DecodeError('ERR_DECODE_FIELD', `missing field ${expr}`);
    if (typeof v === 'object') throw new DecodeError('ERR_DECODE_VALUE', `${expr}: not a scalar`);
    return v;
  }
  if ('const' in expr) return expr.const;
  let v = lookup(fields, expr.field);
  if (v === undefined || v === null) {
    if (expr.optional) return undefined;
    throw new DecodeError('ERR_DECODE_FIELD', `missing field ${expr.field}`);
  }
  if (typeof v === 'object') throw new DecodeError('ERR_DECODE_VALUE', `${expr.field}: not a scalar`);
  if (expr.map) {
    const key = String(v);
    if (!Object.hasOwn(expr.map, key)) throw new DecodeError('ERR_DECODE_VALUE', `${expr.field}: unknown value "${key.slice(0, 32)}"`);
    v = expr.map[key];
  }
  v = convert(expr.field, v, expr.as);
  if (expr.scale !== undefined) {
    if (typeof v !== 'number') throw new DecodeError('ERR_DECODE_VALUE', `${expr.field}: scale needs a number`);
    // Rounded so that 215 × 0.1 reads 21.5, not 21.500000000000004.
    v = Math.round(v * expr.scale * 1e6) / 1e6;
  }
  return v;
}

/** Device time: a wrong device clock must never cost an event, so an unreadable time is left out. */
export function evalTime(expr: ValueExpr | undefined, fields: Fields): string | undefined {
  if (!expr) return undefined;
  try {
    const v = evalValue(expr, fields);
    return typeof v === 'string' ? v : undefined;
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}

/** Evaluates a name → ValueExpr map, leaving out absent optional values. */
export function evalMap(map: Record<string, ValueExpr> | undefined, fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!map) return out;
  for (const [k, expr] of Object.entries(map)) {
    const v = evalValue(expr, fields);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
