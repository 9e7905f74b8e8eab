/**
 * Nothing lost, nothing doubled, across a `kill -9` of the edge agent: a device publishes numbered events
 * (QoS 1, resending whatever was not acknowledged, as MQTT devices do); the agent process is killed
 * mid-stream and restarted on the same data folder; the cloud ingest (real PostgreSQL) must end with every
 * event the agent acknowledged, each (edge, seq) once, in the device's order.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase, freePort, waitFor } from '@safe-community/testkit';
import { CloudBroker } from '../demo/cloud-broker.js';

const TOTAL = 400;
const KILL_AT = 150;

interface EdgeProc { child: ChildProcess; port: number; passwords: Map<string, string> }

async function startEdge(config: object, passwords: Map<string, string>): Promise<EdgeProc> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/edge-process.ts', import.meta.url).pathname, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const m of out.matchAll(/^password (\S+) (\S+)$/gm)) passwords.set(m[1]!, m[2]!);
      const ready = /^ready (\d+)$/m.exec(out);
      if (ready) resolve(Number(ready[1]));
    });
    child.once('exit', (code) => reject(new Error(`edge process exited ${code}: ${out}`)));
  });
  return { child, port, passwords };
}

t.test('kill -9 of the edge agent mid-stream: every acknowledged event stored exactly once, in order', async (t) => {
  const db = await freshDatabase('fault_kill');
  // The cloud broker checks edge logins against the ingest's edge directory, as in the one-machine start.
  let ingestRef: IngestService | undefined;
  const cloud = new CloudBroker({ edges: { authenticate: async (e, s) => (ingestRef ? ingestRef.edges.authenticate(e, s) : null) } });
  await cloud.start();
  const ingest = createIngestService({ databaseUrl: db.url, mqttUrl: cloud.ingestUrl, mqttProtocol: 4, port: 0, clientId: `ingest-kill-${process.pid}` }, { logger: createLogger({ level: 'error' }) });
  ingestRef = ingest;
  await ingest.start();
  const secret = await ingest.edges.issue('edge-kill', 'site-k');
  const dir = await mkdtemp(join(tmpdir(), 'fault-kill-'));
  t.teardown(async () => {
    await ingest.stop();
    await cloud.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const brokerPort = await freePort();
  const config = {
    edge: { id: 'edge-kill', site: 'site-k' }, dataDir: dir,
    broker: { port: brokerPort, ratePerSecond: 0 }, admin: { enabled: false },
    uplink: { url: cloud.url, secret, ackTimeoutMs: 2000 },
    devices: [{ id: 'S1', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: {} }],
    linkage: { builtinRules: false },
  };
  const passwords = new Map<string, string>();
  let edge = await startEdge(config, passwords);
  t.teardown(() => { edge.child.kill('SIGKILL'); });

  // The device: numbered leak alerts (probe P<n>), QoS 1, resending what had no PUBACK after reconnecting.
  const acked = new Set<number>();
  const client = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`, { clientId: 'S1', username: 'S1', password: passwords.get('S1')!, reconnectPeriod: 100, clean: true });
  t.teardown(() => client.end(true));
  const publish = (n: number): Promise<void> => new Promise((resolve) => {
    const attempt = (): void => {
      if (!client.connected) { setTimeout(attempt, 50); return; }
      client.publish('devices/S1/alert', JSON.stringify({ alert: 'leak', on: 1, probe: `P${n}` }), { qos: 1 }, (err) => {
        if (err) setTimeout(attempt, 50);
        else { acked.add(n); resolve(); }
      });
    };
    attempt();
  });
  await waitFor(() => client.connected, { what: 'device connected' });

  let next = 0;
  const sender = (async () => {
    while (next < TOTAL) {
      const batch = Array.from({ length: 10 }, () => next++).filter((n) => n < TOTAL);
      await Promise.all(batch.map(publish));
    }
  })();
  await waitFor(() => acked.size >= KILL_AT, { what: `${KILL_AT} acked`, timeoutMs: 60_000 });
  edge.child.kill('SIGKILL');
  await new Promise((r) => edge.child.once('exit', r));
  const ackedAtKill = acked.size;
  edge = await startEdge(config, passwords);
  await sender;
  t.equal(acked.size, TOTAL, 'the device got every publish acknowledged in the end');
  t.ok(ackedAtKill < TOTAL, 'the kill happened mid-stream');

  const rows = await waitFor(async () => {
    const r = await ingest.store.query(`SELECT seq::int AS seq, payload->>'probe' AS probe FROM events WHERE edge = 'edge-kill' ORDER BY seq`, []);
    const probes = new Set(r.map((x) => x.probe));
    return probes.size >= TOTAL ? r : null;
  }, { what: 'every event in the database', timeoutMs: 60_000 }).catch(async (err: Error) => {
    const r = await ingest.store.query(`SELECT seq::int AS seq, payload->>'probe' AS probe FROM events WHERE edge = 'edge-kill' ORDER BY seq`, []);
    const have = new Set(r.map((x) => Number(String(x.probe).slice(1))));
    const missing = [...Array(TOTAL).keys()].filter((n) => !have.has(n));
    const dl = await ingest.store.query(`SELECT code, reason, seq FROM dead_letters`, []);
    const cur = await ingest.store.query(`SELECT * FROM edge_cursor`, []);
    throw new Error(`${err.message}: ${r.length} rows, missing ${missing.length} (${missing.slice(0, 20).join(',')}), acked at kill ${ackedAtKill}, dead letters ${JSON.stringify(dl.slice(0, 3))}, cursor ${JSON.stringify(cur)}`);
  });

  const seqs = rows.map((r) => r.seq as number);
  t.equal(new Set(seqs).size, seqs.length, 'each (edge, seq) stored once');
  const probes = rows.map((r) => Number(String(r.probe).slice(1)));
  t.equal(new Set(probes).size, TOTAL, 'every acknowledged event is there');
  // A message the agent made durable but could not PUBACK before dying is resent by the device and stored
  // again under a new seq (MQTT is at-least-once between device and edge): at most the in-flight window.
  t.ok(rows.length - TOTAL <= 10, `device resends stored twice: ${rows.length - TOTAL} (≤ the 10 in flight at the kill)`);
  // Order: first occurrences follow the device's numbering within each batch of ten it sent together.
  const firstSeen = new Map<number, number>();
  rows.forEach((r, i) => { if (!firstSeen.has(probes[i]!)) firstSeen.set(probes[i]!, r.seq as number); });
  let outOfOrder = 0;
  for (let n = 10; n < TOTAL; n++) if ((firstSeen.get(n) ?? 0) < (firstSeen.get(n - 10) ?? 0)) outOfOrder++;
  t.equal(outOfOrder, 0, 'batches of the device arrive in the order it sent them');
  const cursor = await ingest.store.query(`SELECT last_seq::int AS last FROM edge_cursor WHERE edge = 'edge-kill'`, []);
  t.ok((cursor[0]?.last as number) >= Math.max(...seqs), 'the cloud cursor covers every stored record');
});
