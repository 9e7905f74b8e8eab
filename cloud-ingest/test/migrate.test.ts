import t from 'tap';
import pg from 'pg';
import { mkdtemp, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { freshDatabase } from '@safe-community/testkit';
import { migrate, DEFAULT_MIGRATIONS_DIR, listMigrations } from '@safe-community/cloud-ingest';

const expectedVersions = (await listMigrations(DEFAULT_MIGRATIONS_DIR)).map((m) => m.version);

t.test('PostgreSQL: two migrators at once apply each file exactly once, plain variant', async (t) => {
  const db = await freshDatabase('mig');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  t.teardown(async () => { await pool.end(); await db.drop(); });
  const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
  t.same([...a.applied, ...b.applied].sort(), expectedVersions, 'every version applied once in total');
  t.equal(a.timescale, false);
  const rows = (await pool.query('SELECT version, variant FROM schema_migrations ORDER BY version')).rows;
  t.same(rows.map((r) => r.version), expectedVersions);
  t.ok(rows.some((r) => r.variant === 'plain'), 'the plain variant was chosen');
  const again = await migrate(pool);
  t.same(again.applied, [], 'a second run applies nothing');
  const parts = (await pool.query(`SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname = 'telemetry'`)).rows[0];
  t.ok(parts.n > 2, 'day partitions exist for telemetry');
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

t.test('a variant pair missing one side is a layout error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'migr-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '0001_x.plain.sql'), 'SELECT 1;');
  await t.rejects(listMigrations(dir), { code: 'ERR_MIGRATION_LAYOUT' });
});

t.test('PostgreSQL without timescaledb preloaded: auto stays plain, on names the fix, the connection survives', async (t) => {
  const db = await freshDatabase('migts');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  t.teardown(async () => { await pool.end(); await db.drop(); });
  const libs = (await pool.query(`SELECT current_setting('shared_preload_libraries') AS l`)).rows[0].l as string;
  if (libs.includes('timescaledb')) {
    t.pass('this server preloads timescaledb; the timescale store tests cover it');
    return;
  }
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
