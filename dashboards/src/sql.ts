/**
 * A small typed SELECT builder for Grafana's PostgreSQL datasource. The foundation SDK carries raw SQL
 * strings only; this keeps each panel's query in one readable shape and records the columns it returns
 * (name and kind), so the generator can check a time-series query is shaped the way Grafana reads it and
 * the tests can check the real database returns exactly those columns.
 *
 * Queries are immutable: every method returns a new Query.
 */
import { CodedError } from '@safe-community/runtime';

export type ColumnKind = 'time' | 'number' | 'text' | 'bool' | 'json';

export interface Column {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** One item of the select list: an SQL expression and the column it becomes. */
export interface SelectItem extends Column {
  readonly expr: string;
}

/** Builders for select items, one per column kind. */
export const col = {
  time: (expr: string, name = 'time'): SelectItem => ({ expr, name, kind: 'time' }),
  num: (expr: string, name: string): SelectItem => ({ expr, name, kind: 'number' }),
  text: (expr: string, name: string): SelectItem => ({ expr, name, kind: 'text' }),
  bool: (expr: string, name: string): SelectItem => ({ expr, name, kind: 'bool' }),
  json: (expr: string, name: string): SelectItem => ({ expr, name, kind: 'json' }),
};

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Quotes a column alias only when PostgreSQL would otherwise fold or reject it. */
export function ident(name: string): string {
  return IDENT.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** An SQL literal; strings get single quotes with embedded quotes doubled. */
export function lit(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CodedError('ERR_SQL_LITERAL', `not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}

/** `expr IN (a, b, …)` from literal values. */
export function inList(expr: string, values: readonly (string | number)[]): string {
  if (values.length === 0) throw new CodedError('ERR_SQL_EMPTY_LIST', `empty IN list for ${expr}`);
  return `${expr} IN (${values.map(lit).join(', ')})`;
}

export function eq(expr: string, value: string | number | boolean): string {
  return `${expr} = ${lit(value)}`;
}

/** Conditions joined with AND/OR, parenthesised so they compose safely. */
export function and(...conds: string[]): string {
  return conds.length === 1 ? conds[0]! : `(${conds.join(' AND ')})`;
}
export function or(...conds: string[]): string {
  return conds.length === 1 ? conds[0]! : `(${conds.join(' OR ')})`;
}

type From = { readonly kind: 'table'; readonly sql: string } | { readonly kind: 'sub'; readonly query: Query; readonly alias: string };

interface QueryParts {
  readonly ctes: readonly { name: string; query: Query | string }[];
  readonly from: From | null;
  readonly joins: readonly string[];
  readonly items: readonly SelectItem[];
  readonly where: readonly string[];
  readonly groupBy: readonly string[];
  readonly having: readonly string[];
  readonly orderBy: readonly string[];
  readonly limit: number | null;
  readonly distinctOn: readonly string[];
}

const EMPTY: QueryParts = {
  ctes: [],
  from: null,
  joins: [],
  items: [],
  where: [],
  groupBy: [],
  having: [],
  orderBy: [],
  limit: null,
  distinctOn: [],
};

export class Query {
  private constructor(private readonly parts: QueryParts) {}

  /** Starts a query over a table (with optional alias, e.g. `events e`) or a subquery. */
  static from(source: string): Query;
  static from(source: Query, alias: string): Query;
  static from(source: string | Query, alias?: string): Query {
    if (typeof source === 'string') return new Query({ ...EMPTY, from: { kind: 'table', sql: source } });
    if (!alias) throw new CodedError('ERR_SQL_ALIAS', 'a subquery in FROM needs an alias');
    return new Query({ ...EMPTY, from: { kind: 'sub', query: source, alias } });
  }

  /** A query without FROM (constant rows). */
  static values(): Query {
    return new Query(EMPTY);
  }

  private with_(patch: Partial<QueryParts>): Query {
    return new Query({ ...this.parts, ...patch });
  }

  /** Adds a common table expression, rendered before the SELECT. */
  with(name: string, query: Query | string): Query {
    return this.with_({ ctes: [...this.parts.ctes, { name, query }] });
  }

  /** A JOIN clause written in full, e.g. `LEFT JOIN alarms a ON a.site = s.site`. */
  join(clause: string): Query {
    return this.with_({ joins: [...this.parts.joins, clause] });
  }

  select(...items: SelectItem[]): Query {
    const names = new Set(this.parts.items.map((i) => i.name));
    for (const item of items) {
      if (names.has(item.name)) throw new CodedError('ERR_SQL_DUPLICATE_COLUMN', `column ${item.name} selected twice`);
      names.add(item.name);
    }
    return this.with_({ items: [...this.parts.items, ...items] });
  }

  distinctOn(...exprs: string[]): Query {
    return this.with_({ distinctOn: [...this.parts.distinctOn, ...exprs] });
  }

  where(...conds: string[]): Query {
    return this.with_({ where: [...this.parts.where, ...conds] });
  }

  groupBy(...exprs: string[]): Query {
    return this.with_({ groupBy: [...this.parts.groupBy, ...exprs] });
  }

  having(...conds: string[]): Query {
    return this.with_({ having: [...this.parts.having, ...conds] });
  }

  orderBy(...exprs: string[]): Query {
    return this.with_({ orderBy: [...this.parts.orderBy, ...exprs] });
  }

  limit(n: number): Query {
    if (!Number.isInteger(n) || n < 1) throw new CodedError('ERR_SQL_LIMIT', `bad limit ${n}`);
    return this.with_({ limit: n });
  }

  /** The columns the query returns, in order. */
  get columns(): readonly Column[] {
    return this.parts.items.map(({ name, kind }) => ({ name, kind }));
  }

  toSql(): string {
    const p = this.parts;
    if (p.items.length === 0) throw new CodedError('ERR_SQL_NO_COLUMNS', 'a query needs at least one column');
    const lines: string[] = [];
    if (p.ctes.length > 0) {
      const ctes = p.ctes.map((c) => `${c.name} AS (\n${indent(typeof c.query === 'string' ? c.query : c.query.toSql())}\n)`);
      lines.push(`WITH ${ctes.join(',\n')}`);
    }
    const distinct = p.distinctOn.length > 0 ? `DISTINCT ON (${p.distinctOn.join(', ')}) ` : '';
    lines.push(`SELECT ${distinct}${p.items.map((i) => `${i.expr} AS ${ident(i.name)}`).join(',\n  ')}`);
    if (p.from?.kind === 'table') lines.push(`FROM ${p.from.sql}`);
    if (p.from?.kind === 'sub') lines.push(`FROM (\n${indent(p.from.query.toSql())}\n) ${p.from.alias}`);
    lines.push(...p.joins);
    if (p.where.length > 0) lines.push(`WHERE ${p.where.join('\n  AND ')}`);
    if (p.groupBy.length > 0) lines.push(`GROUP BY ${p.groupBy.join(', ')}`);
    if (p.having.length > 0) lines.push(`HAVING ${p.having.join(' AND ')}`);
    if (p.orderBy.length > 0) lines.push(`ORDER BY ${p.orderBy.join(', ')}`);
    if (p.limit !== null) lines.push(`LIMIT ${p.limit}`);
    return lines.join('\n');
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
