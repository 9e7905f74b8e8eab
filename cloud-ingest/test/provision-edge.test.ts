/**
 * `npm run provision-edge` (issue 12): issues an edge's secret into the cloud database and writes its login
 * into a Mosquitto password file, keeping the other logins; a second run rotates with a grace period.
 * (test/security/cloud-broker-mosquitto.test.ts proves a real Mosquitto accepts the lines it writes.)
 */
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase } from '@safe-community/testkit';
import { EdgeDirectory, PgStore } from '../src/index.js';
import { provisionEdge } from '../src/cli-provision-edge.js';

const db = await freshDatabase('provision_edge');
const dir = await mkdtemp(join(tmpdir(), 'prov-edge-'));
const store = new PgStore({ url: db.url, logger: createLogger({ level: 'silent' }) });
await store.start();
t.teardown(async () => {
  await store.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const run = async (args: string[], env: NodeJS.ProcessEnv = { DATABASE_URL: db.url }): Promise<string[]> => {
  const out: string[] = [];
  await provisionEdge(args, env, (l) => out.push(l));
  return out;
};

t.test('issues a secret and writes the broker login; a rerun rotates it with grace', async (t) => {
  const passwd = join(dir, 'passwd');
  await writeFile(passwd, 'ingest:$7$101$c2FsdA==$aGFzaA==\n');
  const first = await run(['hub-9', '--site', 'site-9', '--mosquitto-passwd', passwd]);
  const secret = first.at(-1)!;
  t.match(secret, /^edge_/);
  t.notOk(first.slice(0, -1).some((l) => l.includes(secret)), 'the secret is printed once, on its own line');
  const edges = new EdgeDirectory(store);
  t.same(await edges.authenticate('hub-9', secret), { edge: 'hub-9', site: 'site-9' });
  const lines = (await readFile(passwd, 'utf8')).trim().split('\n');
  t.equal(lines[0], 'ingest:$7$101$c2FsdA==$aGFzaA==', 'other logins kept');
  t.match(lines[1], /^hub-9:\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
  t.notOk(lines[1]!.includes(secret), 'the file holds a hash only');
  const second = (await run(['hub-9', '--site', 'site-9', '--grace-s', '60', '--mosquitto-passwd', passwd])).at(-1)!;
  t.not(second, secret);
  t.ok(await edges.authenticate('hub-9', secret), 'the old secret still works in its grace period');
  t.ok(await edges.authenticate('hub-9', second));
  t.equal((await readFile(passwd, 'utf8')).trim().split('\n').filter((l) => l.startsWith('hub-9:')).length, 1, 'one line per login');
});

t.test('usage errors name what is missing', async (t) => {
  await t.rejects(run(['hub-9']), { code: 'ERR_USAGE' });
  await t.rejects(run(['hub-9', '--site', 's'], {}), { code: 'ERR_CONFIG', message: /DATABASE_URL/ });
  await t.rejects(run(['hub-9', '--site', 's', '--grace-s', 'soon']), { code: 'ERR_USAGE' });
  await t.rejects(run(['ingest', '--site', 's']), { code: 'ERR_VALIDATION', message: /reserved/ });
});
