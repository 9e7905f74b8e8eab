/**
 * Expands panel SQL the way Grafana does before it reaches PostgreSQL: first template variables and the
 * built-in interval variables (front end), then the datasource's `$__` macros (back end). It follows the
 * PostgreSQL datasource's documented expansions, so panel SQL can be run and checked without a Grafana
 * server, and scripts can run a panel's query by hand.
 */
import { CodedError } from '@safe-community/runtime';
import { ALL_VALUE } from './macros.js';

/** A variable's selection: one value, several, or "All". */
export type VariableValue = string | readonly string[] | { readonly all: true };

export interface ExpandContext {
  from: Date;
  to: Date;
  /** The bin width Grafana would pick for the panel. */
  intervalMs: number;
  variables?: Readonly<Record<string, VariableValue>>;
}

function quote(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/** Grafana renders a multi-value or include-all SQL variable as a quoted list; "All" as the custom all value. */
export function formatVariable(value: VariableValue): string {
  if (typeof value === 'string') return quote(value);
  if ('all' in value) return ALL_VALUE;
  const list = value as readonly string[];
  // An empty selection renders as an empty string in Grafana; '' keeps the IN () syntactically valid.
  return list.length === 0 ? "''" : list.map(quote).join(',');
}

/** Grafana's short form of an interval: 1d, 2h, 5m, 30s or 250ms. */
export function formatInterval(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new CodedError('ERR_MACRO_INTERVAL', `bad interval ${ms} ms`);
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Parses Grafana's short interval ('5m', '1h', '30s', '100ms', '1d') into seconds. */
export function parseIntervalSeconds(text: string): number {
  const m = /^'?\s*(\d+(?:\.\d+)?)(ms|s|m|h|d|w)\s*'?$/.exec(text.trim());
  if (!m) throw new CodedError('ERR_MACRO_INTERVAL', `cannot read interval '${text}'`);
  const n = Number(m[1]);
  const factor: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  return n * factor[m[2]!]!;
}

function isoSeconds(d: Date): string {
  return `'${d.toISOString().replace(/\.\d{3}Z$/, 'Z')}'`;
}

/** Replaces `$name`, `${name}` and the built-in interval variables. */
function expandVariables(sql: string, ctx: ExpandContext): string {
  const vars = ctx.variables ?? {};
  return sql.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)\b(?!\s*\()/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    switch (name) {
      case '__interval_ms':
        return String(ctx.intervalMs);
      case '__interval':
        return formatInterval(ctx.intervalMs);
      case '__from':
        return String(ctx.from.getTime());
      case '__to':
        return String(ctx.to.getTime());
    }
    if (name.startsWith('__')) throw new CodedError('ERR_MACRO_UNKNOWN', `unknown built-in variable ${whole}`);
    const value = vars[name];
    if (value === undefined) throw new CodedError('ERR_MACRO_VARIABLE', `no value for variable $${name}`);
    return formatVariable(value);
  });
}

/** Splits macro arguments at top-level commas, respecting parentheses and quotes. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return args;
}

/** Index of the parenthesis closing the one at `open`, or -1. */
function closing(sql: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && --depth === 0) return i;
  }
  return -1;
}

function arg(args: string[], i: number, macro: string): string {
  const a = args[i];
  if (a === undefined || a === '') throw new CodedError('ERR_MACRO_ARGS', `${macro} needs argument ${i + 1}`);
  return a;
}

function expandMacro(name: string, args: string[], ctx: ExpandContext): string {
  const from = isoSeconds(ctx.from);
  const to = isoSeconds(ctx.to);
  switch (name) {
    case 'time':
      return `${arg(args, 0, name)} AS "time"`;
    case 'timeFilter':
      return `${arg(args, 0, name)} BETWEEN ${from} AND ${to}`;
    case 'timeFrom':
      return from;
    case 'timeTo':
      return to;
    case 'unixEpochFilter':
      return `${arg(args, 0, name)} >= ${Math.floor(ctx.from.getTime() / 1000)} AND ${arg(args, 0, name)} <= ${Math.floor(ctx.to.getTime() / 1000)}`;
    case 'timeGroup':
    case 'timeGroupAlias': {
      const secs = parseIntervalSeconds(arg(args, 1, name));
      const group = `floor(extract(epoch from ${arg(args, 0, name)})/${secs})*${secs}`;
      return name === 'timeGroupAlias' ? `${group} AS "time"` : group;
    }
    default:
      throw new CodedError('ERR_MACRO_UNKNOWN', `unknown macro $__${name}`);
  }
}

/** Expands variables and macros; throws a CodedError on anything Grafana would not expand. */
export function expandMacros(sql: string, ctx: ExpandContext): string {
  let out = expandVariables(sql, ctx);
  const macro = /\$__([A-Za-z]+)\s*\(/g;
  for (;;) {
    macro.lastIndex = 0;
    const m = macro.exec(out);
    if (!m) break;
    const open = m.index + m[0].length - 1;
    const close = closing(out, open);
    if (close < 0) throw new CodedError('ERR_MACRO_ARGS', `unclosed $__${m[1]}(`);
    const replacement = expandMacro(m[1]!, splitArgs(out.slice(open + 1, close)), ctx);
    out = out.slice(0, m.index) + replacement + out.slice(close + 1);
  }
  return out;
}
