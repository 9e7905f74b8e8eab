import t from 'tap';
import pg from 'pg';
import { mkdtemp, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { expectedStore, freshDatabase } from '@safe-community/testkit';
import { migrate, DEFAULT_MIGRATIONS_DIR, listMigrations, PgStore } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';

const silent = createLogger({ level: 'silent' });

const expectedVersions = (await listMigrations(DEFAULT_MIGRATIONS_DIR)).map((m) => m.version);
const variant = await expectedStore();

t.test(`PostgreSQL: two migrators at once apply each file exactly once, ${variant} variant`, async (t) => {
  const db = await freshDatabase('mig');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  t.teardown(async () => { await pool.end(); await db.drop(); });
  const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
  t.same([...a.applied, ...b.applied].sort(), expectedVersions, 'every version applied once in total');
  t.equal(a.timescale, variant === 'timescale', `auto chose ${variant}`);
  t.equal(b.timescale, a.timescale, 'both migrators agree');
  const rows = (await pool.query('SELECT version, variant FROM schema_migrations ORDER BY version')).rows;
  t.same(rows.map((r) => r.version), expectedVersions);
  t.ok(rows.some((r) => r.variant === variant), `the ${variant} variant was chosen`);
  t.notOk(rows.some((r) => r.variant !== variant && r.variant !== 'any'), 'never a mix of variants');
  const again = await migrate(pool);
  t.same(again.applied, [], 'a second run applies nothing');
  if (variant === 'plain') {
    const parts = (await pool.query(`SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname = 'telemetry'`)).rows[0];
    t.ok(parts.n > 2, 'day partitions exist for telemetry');
    return;
  }
  const hyper = (await pool.query(`SELECT hypertable_name AS h, compression_enabled AS c FROM timescaledb_information.hypertables ORDER BY 1`)).rows;
  t.same(hyper.filter((r) => !r.h.startsWith('_')), [
    { h: 'command_results', c: true }, { h: 'events', c: true }, { h: 'linkage_executions', c: true }, { h: 'telemetry', c: true },
  ], 'the four time-series tables are hypertables with compression');
  const interval = (await pool.query(`SELECT hypertable_name AS h, time_interval::text AS i FROM timescaledb_information.dimensions ORDER BY 1`)).rows;
  t.same(interval.filter((r) => ['events', 'telemetry'].includes(r.h)), [{ h: 'events', i: '7 days' }, { h: 'telemetry', i: '1 day' }], 'chunk intervals');
  const seg = (await pool.query(`SELECT attname FROM timescaledb_information.compression_settings
    WHERE hypertable_name = 'telemetry' AND segmentby_column_index IS NOT NULL ORDER BY segmentby_column_index`)).rows;
  t.same(seg.map((r) => r.attname), ['site', 'edge', 'device', 'metric'], 'telemetry segmented by what the dashboards filter on');
  const caggs = (await pool.query(`SELECT view_name AS v, materialized_only AS m FROM timescaledb_information.continuous_aggregates ORDER BY 1`)).rows;
  t.same(caggs, [{ v: 'events_1m', m: false }, { v: 'telemetry_1h', m: false }, { v: 'telemetry_1m', m: false }], 'rollups are real-time continuous aggregates');
  const jobs = (await pool.query(`SELECT proc_name AS p, hypertable_name AS h FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL ORDER BY 2, 1`)).rows;
  t.same(jobs.map((j) => `${j.h}:${j.p}`), [
    'command_results:policy_compression', 'events:policy_compression', 'events_1m:policy_refresh_continuous_aggregate',
    'linkage_executions:policy_compression', 'telemetry:policy_compression', 'telemetry_1h:policy_refresh_continuous_aggregate',
    'telemetry_1m:policy_refresh_continuous_aggregate',
  ], 'compression and refresh policies; retention policies come from the setting (maintenance)');
});

t.test('a changed migration file is refused with ERR_MIGRATION_CHANGED', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'migr-'));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  const lite = new PGlite();
  t.teardown(async () => { await lite.close(); await rm(dir, { recursive: true, force: true }); });
  const first = await migrate(lite, { dir });
  t.same(first.applied, expectedVersions);
  await writeFile(join(dir, '0001_core.sql'), '-- edited\n', { flag: 'a' });
  await t.rejects(migrate(lite, { dir }), { code: 'ERR_MIGRATION_CHANGED' });
});

t.test('a failing migration rolls back and is not recorded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'migr-'));
  await writeFile(join(dir, '0001_ok.sql'), 'CREATE TABLE a (x int);');
  await writeFile(join(dir, '0002_bad.sql'), 'CREATE TABLE b (x int); SELECT no_such_function();');
  const db = await freshDatabase('migfail');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(async () => { await client.end(); await db.drop(); await rm(dir, { recursive: true, force: true }); });
  await t.rejects(migrate(client, { dir }), { code: 'ERR_MIGRATION_FAILED' });
  const rec = (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows;
  t.same(rec.map((r) => r.version), ['0001_ok']);
  const b = (await client.query<{ r: string | null }>(`SELECT to_regclass('b')::text AS r`)).rows[0];
  t.equal(b?.r, null, 'table b of the failed file does not exist');
});

t.test('a migration that loses a race for catalog rows is tried again; any other failure is not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'migr-'));
  // TimescaleDB's job scheduler can delete catalog rows a migration's DDL is changing ("tuple concurrently
  // deleted", XX000). The race cannot be made to happen on cue, so the file raises that error itself on its
  // first try: a sequence counts the tries, since it does not roll back with the failed transaction.
  const race = (n: number) => `DO $$ BEGIN IF nextval('tries') <= ${n} THEN
    RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = 'tuple concurrently deleted'; END IF; END $$;`;
  await writeFile(join(dir, '0001_raced.sql'), `CREATE TABLE a (x int); ${race(1)}`);
  const db = await freshDatabase('migrace');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(async () => { await client.end(); await db.drop(); await rm(dir, { recursive: true, force: true }); });
  await client.query('CREATE SEQUENCE tries');
  const warned: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => warned.push(c.toString()));
  const logger = createLogger({ level: 'warn', destination: sink });
  t.same((await migrate(client, { dir, logger })).applied, ['0001_raced'], 'applied on the second try');
  t.equal((await client.query<{ n: string }>('SELECT last_value::text AS n FROM tries')).rows[0]?.n, '2', 'two tries');
  t.ok(warned.some((l) => l.includes('lost a race')), 'the retry is logged');

  // always losing: three tries, then the failure as it was
  await writeFile(join(dir, '0002_raced_always.sql'), race(1000));
  await t.rejects(migrate(client, { dir }), { code: 'ERR_MIGRATION_FAILED', message: /tuple concurrently deleted/ });
  t.equal((await client.query<{ n: string }>('SELECT last_value::text AS n FROM tries')).rows[0]?.n, '5', 'three more tries, no more');
  await rm(join(dir, '0002_raced_always.sql'));

  // an ordinary failure is not tried again
  await writeFile(join(dir, '0003_bad.sql'), `SELECT nextval('tries'); SELECT no_such_function();`);
  await t.rejects(migrate(client, { dir }), { code: 'ERR_MIGRATION_FAILED' });
  t.equal((await client.query<{ n: string }>('SELECT last_value::text AS n FROM tries')).rows[0]?.n, '6', 'one try');
});

t.test('a variant pair missing one side is a layout error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'migr-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '0001_x.plain.sql'), 'SELECT 1;');
  await t.rejects(listMigrations(dir), { code: 'ERR_MIGRATION_LAYOUT' });
});

t.test(`PostgreSQL ${variant === 'plain' ? 'without' : 'with'} timescaledb preloaded: auto and on choose what the server can run, the connection survives`, async (t) => {
  const db = await freshDatabase('migts');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  t.teardown(async () => { await pool.end(); await db.drop(); });
  const libs = (await pool.query(`SELECT current_setting('shared_preload_libraries') AS l`)).rows[0].l as string;
  t.equal(libs.includes('timescaledb'), variant === 'timescale', `the server ${variant === 'plain' ? 'does not preload' : 'preloads'} timescaledb`);
  if (variant === 'timescale') {
    const on = await migrate(pool, { timescale: 'on' });
    t.equal(on.timescale, true, 'on uses TimescaleDB');
    const ext = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
    t.equal(ext.rows.length, 1, 'the extension was created');
    t.equal((await migrate(pool, { timescale: 'off' })).timescale, true, 'the recorded choice stands over a later setting');
    const other = await freshDatabase('migoff');
    t.teardown(() => other.drop());
    const off = new PgStore({ url: other.url, timescale: 'off', logger: silent });
    await off.start();
    t.teardown(() => off.stop());
    t.equal(off.timescale, false, 'the store set to off keeps a new database plain on a TimescaleDB server');
    return;
  }
  // The service's setting (config timescale / STORE_TIMESCALE) reaches the same check: the store does not start.
  await t.rejects(new PgStore({ url: db.url, timescale: 'on', logger: silent }).start(), { code: 'ERR_TIMESCALE_MISSING' });
  const available = (await pool.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rows.length > 0;
  await t.rejects(migrate(pool, { timescale: 'on' }), {
    code: 'ERR_TIMESCALE_MISSING',
    message: available ? /shared_preload_libraries/ : /install TimescaleDB/,
  });
  const auto = await migrate(pool);
  t.equal(auto.timescale, false, 'auto chooses the plain variant');
  t.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the server did not end the connection');
  const ext = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  t.equal(ext.rows.length, 0, 'no CREATE EXTENSION was attempted');
});
