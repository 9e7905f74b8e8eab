/**
 * `npm run test:timescale`: the suite's second pass. Every test file that depends on the store (store,
 * migrations, maintenance, ingest, rules, alarms, API, dashboards' SQL, the cloud side of the care
 * end-to-end) runs again against the TimescaleDB server at TIMESCALE_DATABASE_URL, with TEST_STORE=timescale
 * so each asserts the TimescaleDB variant. The first pass (`tap`) runs the whole suite on plain PostgreSQL.
 * Tests that never touch a database (video, edge, contracts) are not repeated.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders whose test files may touch the store, and the files among them that do. */
const FOLDERS = ['cloud-ingest/test', 'dashboards/test', 'test'];
/** A file is store-dependent when it (or the shared set-up it imports) opens a PostgreSQL database. */
const USES_STORE = /freshDatabase|api-harness|startEvidenceIngest|apiSuite\('pg'\)|alarms-setup|careCloud\('postgres'\)|runCareDay\(t, 'postgres'\)/;
/**
 * Store-dependent files not repeated: those that also run cameras and models (the video path does not depend
 * on the store's variant), and the time-sanity test, which is about plain PostgreSQL's day partitions (a
 * far-future row in the default partition blocking the partition step); hypertables have neither.
 */
const NOT_REPEATED = new Set(['test/e2e-fire-path.test.ts', 'test/fault-edge-kill.test.ts', 'cloud-ingest/test/ingest-time-health.test.ts']);

async function storeTestFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const folder of FOLDERS) {
    for (const name of (await readdir(join(ROOT, folder))).sort()) {
      if (!name.endsWith('.test.ts')) continue;
      const path = join(ROOT, folder, name);
      const rel = relative(ROOT, path);
      if (!NOT_REPEATED.has(rel) && USES_STORE.test(await readFile(path, 'utf8'))) out.push(rel);
    }
  }
  return out;
}

async function checkServer(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`TIMESCALE_DATABASE_URL ${new URL(url).host}: cannot connect (${(err as Error).message}); start it with ../shared/timescaledb/start.sh`, { cause: err });
  }
  try {
    const libs = (await c.query<{ l: string | null }>(`SELECT current_setting('shared_preload_libraries', true) AS l`)).rows[0]?.l ?? '';
    if (!libs.split(',').map((x) => x.trim()).includes('timescaledb')) {
      throw new Error(`TIMESCALE_DATABASE_URL ${new URL(url).host} does not preload timescaledb (shared_preload_libraries = '${libs}')`);
    }
  } finally {
    await c.end();
  }
}

async function main(): Promise<number> {
  const url = process.env.TIMESCALE_DATABASE_URL;
  if (!url) {
    console.error('test:timescale: TIMESCALE_DATABASE_URL is not set; ../shared/timescaledb/start.sh starts a TimescaleDB server and prints it');
    return 2;
  }
  await checkServer(url);
  const files = await storeTestFiles();
  console.log(`test:timescale: ${files.length} store test files against TimescaleDB at ${new URL(url).host}`);
  // Coverage is the first pass's measure (of the whole suite); this pass repeats a subset.
  const child = spawn('npx', ['tap', '--disable-coverage', ...files], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: url, TEST_STORE: 'timescale' },
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(`test:timescale: ${(err as Error).message}`);
  return 2;
});
