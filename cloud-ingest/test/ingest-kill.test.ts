/**
 * kill -9 of an ingest process mid-stream, on the machine's Mosquitto (MQTT 5, persistent session): a
 * new process with the same client id resumes the session, and every record is stored exactly once.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freshDatabase, waitFor } from '@safe-community/testkit';
import { PgStore } from '@safe-community/cloud-ingest';
import { FakeEdge } from './helpers/fake-edge.js';
import { event, range, telemetry } from './helpers/messages.js';
import { storedSeqs } from './helpers/store-contract.js';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const run = randomBytes(4).toString('hex');

function startIngest(configFile: string): Promise<ChildProcess> {
  // The environment overrides the config file, so the variables main.ts reads must not leak in from
  // the test's own environment (CI sets DATABASE_URL to the admin database).
  const env: NodeJS.ProcessEnv = { ...process.env, INGEST_CONFIG_FILE: configFile, LOG_LEVEL: 'info' };
  for (const k of ['DATABASE_URL', 'MQTT_URL', 'PORT', 'HOST', 'INGEST_SHARE_GROUP', 'MQTT_CLIENT_ID', 'PGLITE_DATA_DIR']) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('cloud ingest started')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`ingest exited early (${code}): ${out.slice(-500)}`)));
  });
}

const exited = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

t.test('kill -9 mid-stream, restart on the same session: every record exactly once', async (t) => {
  const db = await freshDatabase('kill');
  t.teardown(() => db.drop());
  const dir = await mkdtemp(join(tmpdir(), 'ingest-kill-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clientId = `ingest-kill-${run}`;
  const configFile = join(dir, 'ingest.json');
  await writeFile(configFile, JSON.stringify({
    port: 0, databaseUrl: db.url, mqttUrl: MOSQUITTO, shareGroup: `k${run}`, clientId, sessionExpirySec: 120,
    // The edge here is a test client without a registered identity; edge auth has its own suite (test/security).
    maintenance: { enabled: false }, api: { edgeAuth: false },
  }));

  const edge = new FakeEdge({
    url: MOSQUITTO, protocolVersion: 5, edge: `kill-${run}`, batchSize: 100, window: 4, resendMs: 2000,
    make: (e, s) => (s % 10 === 0 ? event(e, s) : telemetry(e, s)),
  });
  await edge.start();
  t.teardown(() => edge.stop());

  const children: ChildProcess[] = [];
  // One teardown, in a fixed order: processes first, then the persistent session they used is ended on
  // the machine's broker, so the test leaves no queue behind.
  t.teardown(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await exited(c);
    }
    const c = await mqtt.connectAsync(MOSQUITTO, { protocolVersion: 5, clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
    await c.endAsync();
  });
  const first = await startIngest(configFile);
  children.push(first);
  const total = 5000;
  const sending = edge.send(total, 90_000);
  await waitFor(() => edge.acked >= 1200, { timeoutMs: 30_000, what: 'first acks' });
  first.kill('SIGKILL');
  await exited(first);
  const ackedAtKill = edge.acked;
  t.ok(ackedAtKill < total, `killed mid-stream at ${ackedAtKill}/${total}`);

  const second = await startIngest(configFile);
  children.push(second);
  await sending;

  const store = new PgStore({ url: db.url, migrate: false });
  await store.start();
  t.teardown(() => store.stop());
  t.same(await storedSeqs(store, `kill-${run}`), range(1, total), 'every seq exactly once');
  t.equal(edge.acked, total);
});
