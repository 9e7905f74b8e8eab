/** The SQL builder and the Grafana macro expansion, on their own. */
import t from 'tap';
import { Board, Query, and, col, eq, expandMacros, inList, or, timeBinFixed, timeFilter, formatInterval, formatVariable, inVar, lit, parseIntervalSeconds, timeBin } from '../src/index.js';

const ctx = { from: new Date('2026-01-02T03:04:05.678Z'), to: new Date('2026-01-02T09:04:05Z'), intervalMs: 300_000 };

t.test('builds a query and records its columns', async (tt) => {
  const q = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text('e.kind', 'kind'), col.num('count(*)', 'n'))
    .where("e.kind LIKE 'fire.%'", inVar('e.site', 'site'))
    .groupBy('1', '2')
    .orderBy('1')
    .limit(10);
  tt.same(q.columns, [
    { name: 'time', kind: 'time' },
    { name: 'kind', kind: 'text' },
    { name: 'n', kind: 'number' },
  ]);
  const sql = q.toSql();
  tt.match(sql, /^SELECT date_bin\(/);
  tt.match(sql, /GROUP BY 1, 2\nORDER BY 1\nLIMIT 10$/);
  tt.throws(() => q.select(col.num('1', 'n')), { code: 'ERR_SQL_DUPLICATE_COLUMN' });
  tt.throws(() => Query.from('events').toSql(), { code: 'ERR_SQL_NO_COLUMNS' });
  tt.throws(() => q.limit(0), { code: 'ERR_SQL_LIMIT' });
  tt.equal(lit("O'Brien"), "'O''Brien'");
  tt.equal(lit(null), 'NULL');
  tt.equal(lit(false), 'FALSE');
  tt.throws(() => lit(Number.NaN), { code: 'ERR_SQL_LITERAL' });
  tt.equal(and(eq('a', 1), or(eq('b', 'x'), inList('c', ['y', 2]))), "(a = 1 AND (b = 'x' OR c IN ('y', 2)))");
  tt.equal(and('x'), 'x');
  tt.throws(() => inList('c', []), { code: 'ERR_SQL_EMPTY_LIST' });
  tt.equal(timeBinFixed('t', '1 hour'), "date_bin(INTERVAL '1 hour', t, TIMESTAMPTZ '2000-01-01 00:00:00+00')");
  tt.throws(() => timeBinFixed('t', "1 hour'; DROP TABLE x; --"), { code: 'ERR_SQL_BIN_WIDTH' });
  tt.throws(() => inVar('x', 'bad name'), { code: 'ERR_SQL_VARIABLE' });
  tt.throws(() => timeFilter('coalesce(a, b)'), { code: 'ERR_SQL_MACRO_ARG' });
  tt.throws(() => Query.from(Query.values().select(col.num('1', 'n')), ''), { code: 'ERR_SQL_ALIAS' });
  tt.equal(
    Query.from(Query.values().select(col.num('1', 'n')), 's').select(col.num('s.n', 'n')).distinctOn('s.n').having('count(*) > 0').toSql(),
    'SELECT DISTINCT ON (s.n) s.n AS n\nFROM (\n  SELECT 1 AS n\n) s\nHAVING count(*) > 0',
  );
  tt.equal(Query.from('x').select(col.num('1', 'Odd Name')).toSql(), 'SELECT 1 AS "Odd Name"\nFROM x');
});

t.test('a time-series target must start with time and carry a number', async (tt) => {
  const b = new Board('test');
  tt.throws(() => b.target('p', Query.from('x').select(col.num('1', 'v')), 'time_series'), { code: 'ERR_PANEL_SHAPE' });
  tt.throws(() => b.target('p', Query.from('x').select(col.time('now()'), col.text("'a'", 'a')), 'time_series'), { code: 'ERR_PANEL_SHAPE' });
  const ok = b.target('p', Query.from('x').select(col.time('now()'), col.num('1', 'v')), 'time_series').build();
  tt.equal(ok.format, 'time_series');
  tt.equal(ok.rawSql, 'SELECT now() AS time,\n  1 AS v\nFROM x');
  tt.throws(() => b.target('p', Query.from('x').select(col.num('1', 'v'))), { code: 'ERR_PANEL_DUPLICATE' });
});

t.test('expands Grafana macros and variables', async (tt) => {
  tt.equal(expandMacros('WHERE $__timeFilter(e.time)', ctx), "WHERE e.time BETWEEN '2026-01-02T03:04:05Z' AND '2026-01-02T09:04:05Z'");
  tt.equal(expandMacros('$__timeFrom() $__timeTo()', ctx), "'2026-01-02T03:04:05Z' '2026-01-02T09:04:05Z'");
  tt.equal(expandMacros('$__timeGroup(coalesce(a, b), $__interval)', ctx), 'floor(extract(epoch from coalesce(a, b))/300)*300');
  tt.equal(expandMacros("$__timeGroupAlias(t, '1h')", ctx), 'floor(extract(epoch from t)/3600)*3600 AS "time"');
  tt.equal(expandMacros('$__interval_ms / $__interval', ctx), '300000 / 5m');
  tt.equal(expandMacros('x IN ($site)', { ...ctx, variables: { site: ['a', "b'c"] } }), "x IN ('a','b''c')");
  tt.equal(expandMacros('x IN (${site})', { ...ctx, variables: { site: 'a' } }), "x IN ('a')");
  tt.equal(expandMacros('x IN ($site)', { ...ctx, variables: { site: { all: true } } }), "x IN ('__all')");
  tt.throws(() => expandMacros('$__nope(x)', ctx), { code: 'ERR_MACRO_UNKNOWN' });
  tt.throws(() => expandMacros('$site', ctx), { code: 'ERR_MACRO_VARIABLE' });
  tt.throws(() => expandMacros('$__timeFilter(x', ctx), { code: 'ERR_MACRO_ARGS' });
  tt.throws(() => expandMacros('$__timeGroup(x)', ctx), { code: 'ERR_MACRO_ARGS' });
});

t.test('interval and variable formats', async (tt) => {
  tt.same([60_000, 3_600_000, 86_400_000, 30_000, 250].map(formatInterval), ['1m', '1h', '1d', '30s', '250ms']);
  tt.equal(parseIntervalSeconds("'5m'"), 300);
  tt.equal(parseIntervalSeconds('100ms'), 0.1);
  tt.throws(() => parseIntervalSeconds('soon'), { code: 'ERR_MACRO_INTERVAL' });
  tt.equal(formatVariable([]), "''");
});
