/**
 * The Grafana pieces that go into panel SQL: time-range macros, time bins and template-variable filters.
 * Bins use date_bin() (PostgreSQL 14+), never time_bucket(), so one query runs on plain PostgreSQL and on
 * TimescaleDB alike (DESIGN.md, "Embedded defaults").
 */
import { CodedError } from '@safe-community/runtime';

/** Origin of every bin: fixed so bins line up across panels and across queries. */
const BIN_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'";

/**
 * The custom "All" value of multi-value variables. Grafana inserts a custom all value without quoting
 * (it is SQL already), so it is written as a literal; filters test for it instead of expanding "All" into
 * a list of every value, which would also drop rows that carry no value at all (e.g. no building tag).
 */
export const ALL_VALUE = "'__all'";

/**
 * `$__timeFilter(col)`: col BETWEEN the dashboard's from and to. The argument must be a plain column:
 * Grafana's macro parser ends the argument at the first ')' (grafana/grafana#10380), so an expression
 * with parentheses would be cut in two.
 */
export function timeFilter(expr: string): string {
  if (/[()]/.test(expr)) throw new CodedError('ERR_SQL_MACRO_ARG', `$__timeFilter takes a column, not '${expr}'`);
  return `$__timeFilter(${expr})`;
}

export function timeFrom(): string {
  return '$__timeFrom()';
}

export function timeTo(): string {
  return '$__timeTo()';
}

/** The bin width Grafana picks for the panel ($__interval_ms), as an interval. */
export function intervalExpr(): string {
  return 'make_interval(secs => $__interval_ms / 1000.0)';
}

/** Bins `expr` to Grafana's interval. */
export function timeBin(expr: string): string {
  return `date_bin(${intervalExpr()}, ${expr}, ${BIN_ORIGIN})`;
}

/** Bins `expr` to a fixed width such as '1 hour' (for "per hour" panels). */
export function timeBinFixed(expr: string, width: string): string {
  if (!/^\d+ (second|minute|hour|day)s?$/.test(width)) {
    throw new CodedError('ERR_SQL_BIN_WIDTH', `bin width must look like '5 minutes', got '${width}'`);
  }
  return `date_bin(INTERVAL '${width}', ${expr}, ${BIN_ORIGIN})`;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `expr` is one of the values chosen in multi-value variable `name`, or the variable is on "All".
 * Grafana renders a multi-value SQL variable as a quoted, comma-separated list.
 */
export function inVar(expr: string, name: string): string {
  if (!VAR_NAME.test(name)) throw new CodedError('ERR_SQL_VARIABLE', `bad variable name '${name}'`);
  return `(${ALL_VALUE} IN ($${name}) OR ${expr} IN ($${name}))`;
}
