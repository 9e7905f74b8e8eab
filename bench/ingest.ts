/**
 * `npm run bench -- ingest [rows] [consumers]` (BENCH_ROUNDS, default 3): telemetry rows/s from a broker through the cloud ingest
 * into PostgreSQL (parse, validate, one transaction per envelope with cursor check, COPY, ack, PUBACK),
 * and, in the same run on the same table and indexes, raw COPY of the same rows through pg: the limit.
 * The store is the one at DATABASE_URL: plain PostgreSQL (day partitions) or TimescaleDB (the hypertable);
 * the JSON names it (`store`) with the telemetry's size per million rows (compressed, with the ratio, on
 * TimescaleDB; measured after the timed rounds).
 *
 * Broker: the machine's Mosquitto (BENCH_MQTT_URL, default mqtt://127.0.0.1:1883, MQTT 5 shared group).
 * Edges send envelopes of 10 000 readings (BENCH_ENVELOPE), one in flight per edge (BENCH_EDGES, default four edges
 * per consumer). They run in a child process with their envelopes prepared before the clock starts, so
 * the edges' cost is not counted as the ingest's (in production they are other machines).
 */
import pg from 'pg';
import mqtt from 'mqtt';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { freshDatabase } from '@safe-community/testkit';
import { createIngestService, migrate, type IngestService } from '@safe-community/cloud-ingest';
import { edgeDownTopic, edgeUplinkTopic, type UplinkMessage } from '@safe-community/contracts';
import { envelopeJson } from '@safe-community/edge-agent';
import { storageLine, telemetryStorage } from './lib/storage.js';

/** argv[2] in the child process that plays the edges. */
const EDGE_ROLE = '--edges';
const TOTAL = Number(process.argv[2] ?? 400_000);
const CONSUMERS = Number(process.argv[3] ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PER_ENVELOPE = Number(process.env.BENCH_ENVELOPE ?? 10_000);
const V1 = process.env.BENCH_ENVELOPE_V1 === '1';
const EDGES = Number(process.env.BENCH_EDGES ?? CONSUMERS * 4);
const MQTT_URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const run = randomBytes(3).toString('hex');
const T0 = Date.parse('2026-11-29T00:00:00.000Z');

interface Row { edge: string; seq: number; device: string; value: number; time: string }

function rowsFor(edge: string, count: number): Row[] {
  const out: Row[] = [];
  for (let seq = 1; seq <= count; seq++) {
    out.push({ edge, seq, device: `S${seq % 50}`, value: Math.round(Math.sin(seq) * 1000) / 10, time: new Date(T0 + seq * 100).toISOString() });
  }
  return out;
}

/** The envelopes as the edge's uplink builds them from its outbox records (v2, columnar telemetry; BENCH_ENVELOPE_V1=1: one object per reading). */
function envelopesFor(edge: string, rows: Row[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += PER_ENVELOPE) {
    const records = rows.slice(i, i + PER_ENVELOPE).map((r) => JSON.stringify({
      seq: r.seq, type: 'telemetry',
      data: { site: 'bench', edge, device: r.device, metric: 'temp.c', value: r.value, unit: 'C', time: r.time },
    } satisfies UplinkMessage));
    const sentAt = new Date().toISOString();
    out.push(V1 ? `{"v":1,"edge":"${edge}","site":"bench","sentAt":"${sentAt}","messages":[${records.join(',')}]}` : envelopeJson(edge, 'bench', sentAt, records));
  }
  return out;
}

async function sendAll(edges: Array<{ edge: string; envelopes: string[]; last: number }>): Promise<number> {
  const clients = await Promise.all(edges.map((e) => new Promise<mqtt.MqttClient>((resolve, reject) => {
    const c = mqtt.connect(MQTT_URL, { protocolVersion: 5, clientId: `bench-${e.edge}`, clean: true });
    c.once('connect', () => c.subscribe(edgeDownTopic(e.edge), { qos: 1 }, (err) => (err ? reject(err) : resolve(c))));
    c.once('error', reject);
  })));
  const start = performance.now();
  await Promise.all(edges.map((e, i) => new Promise<void>((resolve) => {
    const c = clients[i]!;
    let next = 0;
    // One envelope in flight per edge: the next goes when the cloud's ack covers the previous.
    const send = (): void => {
      c.publish(edgeUplinkTopic(e.edge), e.envelopes[next]!, { qos: 1 });
      next++;
    };
    c.on('message', (_t, payload) => {
      const ack = JSON.parse(payload.toString()) as { upTo: number };
      if (ack.upTo >= e.last) resolve();
      else if (ack.upTo >= next * PER_ENVELOPE && next < e.envelopes.length) send();
    });
    send();
  })));
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  return seconds;
}

async function rawCopy(url: string, edges: Array<{ edge: string; rows: Row[] }>): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const chunks: string[] = [];
  for (const e of edges) {
    for (let i = 0; i < e.rows.length; i += PER_ENVELOPE) {
      chunks.push(e.rows.slice(i, i + PER_ENVELOPE).map((r) => `raw-${r.edge}\t${r.seq}\tbench\t${r.device}\ttemp.c\t${r.value}\tC\t${r.time}\n`).join(''));
    }
  }
  const start = performance.now();
  await client.query('BEGIN');
  await pipeline(Readable.from(chunks), client.query(copyFrom('COPY telemetry (edge, seq, site, device, metric, value, unit, time) FROM STDIN')));
  await client.query('COMMIT');
  const seconds = (performance.now() - start) / 1000;
  await client.end();
  return seconds;
}

/** Runs one round's edges in a child process; resolves with the seconds from first publish to last ack. */
function edgesInChild(edges: string[], perEdge: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [EDGE_ROLE, JSON.stringify({ edges, perEdge })], { execArgv: ['--import', 'tsx'] });
    child.once('message', (seconds) => resolve(seconds as number));
    child.once('error', reject);
    child.once('exit', (code) => (code !== 0 ? reject(new Error(`edge process exited with ${code}`)) : undefined));
  });
}

if (process.argv[2] === EDGE_ROLE) {
  const { edges, perEdge } = JSON.parse(process.argv[3]!) as { edges: string[]; perEdge: number };
  const prepared = edges.map((edge) => ({ edge, envelopes: envelopesFor(edge, rowsFor(edge, perEdge)), last: perEdge }));
  const seconds = await sendAll(prepared);
  process.send!(seconds, () => process.exit(0));
} else {
  const db = await freshDatabase('bench_ingest');
  let ingest: IngestService | undefined;
  try {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // The database is dropped WITH (FORCE) at the end; that ends this connection, which is expected.
    admin.on('error', () => undefined);
    await migrate(admin);
    // Day partitions for the bench's timestamps, so both runs write into the same partitions (on TimescaleDB
    // the first row makes its chunk).
    await admin.query(`SELECT ensure_day_partitions('2026-11-28'::date, 3)`);
    const indexes = (await admin.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'telemetry' ORDER BY 1`)).rows.map((r) => r.indexname as string);

    const perEdge = Math.ceil(TOTAL / EDGES / PER_ENVELOPE) * PER_ENVELOPE;
    const total = perEdge * EDGES;
    // Fresh edge ids per round, so each round starts from seq 1 on an empty cursor.
    const rounds = Array.from({ length: ROUNDS }, (_, r) => Array.from({ length: EDGES }, (_, i) => {
      const edge = `b${r}x${i}-${run}`;
      return { edge, rows: rowsFor(edge, perEdge) };
    }));

    ingest = createIngestService({
      logLevel: 'warn', port: 0, databaseUrl: db.url, mqttUrl: MQTT_URL, shareGroup: `bench${run}`, clientId: `bench-ingest-${run}`,
      consumers: CONSUMERS, pgPoolMax: CONSUMERS + 1, sessionExpirySec: 30, maintenance: { enabled: false }, api: { edgeAuth: false },
      // BENCH_COPY_THRESHOLD above the envelope size measures the unnest insert path instead of COPY.
      copyThreshold: Number(process.env.BENCH_COPY_THRESHOLD ?? 2000),
    });
    await ingest.start();
    // Alternating rounds, median of each: on a shared 2-core machine one run of either is mostly noise.
    const ingestSecs: number[] = [];
    const copySecs: number[] = [];
    const elus: number[] = [];
    // The ingest process's own CPU per row (user + system, all its threads): what the profile says the
    // ingest costs, and much less bent by other jobs on the machine than its wall-clock rate.
    const cpuUsPerRow: number[] = [];
    const loadAtStart = loadavg()[0]!;
    for (const edges of rounds) {
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      ingestSecs.push(await edgesInChild(edges.map((e) => e.edge), perEdge));
      const cpu = process.cpuUsage(cpu0);
      cpuUsPerRow.push((cpu.user + cpu.system) / total);
      elus.push(performance.eventLoopUtilization(elu0).utilization);
      copySecs.push(await rawCopy(db.url, edges));
    }
    const counters = ingest.counters();
    await ingest.stop();
    ingest = undefined;
    const check = (await admin.query(
      `SELECT count(*) AS n, count(DISTINCT (edge, seq)) AS d FROM telemetry WHERE site = 'bench' AND edge NOT LIKE 'raw-%'`)).rows[0];
    const stored = Number(check.n);
    const distinct = Number(check.d);
    const copied = Number((await admin.query(`SELECT count(*) AS n FROM telemetry WHERE edge LIKE 'raw-%'`)).rows[0].n);
    const storage = await telemetryStorage(admin);
    await admin.end();

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ingestSec = median(ingestSecs);
    const copySec = median(copySecs);
    const ingestRate = Math.round(total / ingestSec);
    const copyRate = Math.round(total / copySec);
    const ratio = Math.round((ingestRate / copyRate) * 100) / 100;
    const pad = (s: string, n: number) => s.padEnd(n);
    const secs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
    console.log(`ingest benchmark: ${total} telemetry rows per round, ${ROUNDS} rounds, ${EDGES} edges, ${CONSUMERS} consumers, ${PER_ENVELOPE} rows/envelope`);
    console.log(`telemetry indexes: ${indexes.join(', ')}`);
    console.log(`${pad('path', 32)}${pad('median rows/s', 15)}seconds per round`);
    console.log(`${pad(`broker → ingest → ${storage.store}`, 32)}${pad(String(ingestRate), 15)}${secs(ingestSecs)}`);
    console.log(`${pad('raw COPY through pg', 32)}${pad(String(copyRate), 15)}${secs(copySecs)}`);
    console.log(`ratio ${ratio}  (goal: ≥ 100000 rows/s and ≥ 0.6 of raw COPY)  duplicates ${counters.duplicates}, gaps ${counters.gaps}`);
    console.log(`mean commit ${(counters.commitMs / counters.envelopes).toFixed(1)} ms per envelope of ${PER_ENVELOPE}; `
      + `event loop busy ${elus.map((u) => `${Math.round(u * 100)} %`).join(' ')}; ingest CPU ${cpuUsPerRow.map((c) => c.toFixed(2)).join(' ')} µs per row`);
    console.log(`load average (1 min) ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`);
    console.log(storageLine(storage));
    if (distinct !== total * ROUNDS || copied !== total * ROUNDS) throw new Error(`row count mismatch: ingest ${distinct}, copy ${copied}, expected ${total * ROUNDS}`);
    console.log(JSON.stringify({
      bench: 'ingest', store: storage.store,
      rows: total, rounds: ROUNDS, path: Number(process.env.BENCH_COPY_THRESHOLD ?? 2000) <= PER_ENVELOPE ? 'copy' : 'unnest', edges: EDGES, consumers: CONSUMERS, rows_per_envelope: PER_ENVELOPE,
      ingest_rows_per_s: ingestRate, raw_copy_rows_per_s: copyRate, ratio, lost: total * ROUNDS - distinct, doubled: stored - distinct,
      ingest_cpu_us_per_row: Math.round(median(cpuUsPerRow) * 100) / 100, mean_commit_ms: Math.round((counters.commitMs / counters.envelopes) * 10) / 10,
      load_average_1m: Math.round(loadavg()[0]! * 100) / 100, load_average_at_start: Math.round(loadAtStart * 100) / 100,
      met: { ratio_at_least_0_6: ratio >= 0.6, rows_per_s_at_least_100k: ingestRate >= 100_000, nothing_lost_or_doubled: total * ROUNDS === distinct && stored === distinct },
      telemetry_mb_per_million_rows: storage.mb_per_million_rows,
      ...(storage.compression_ratio !== undefined ? { compressed_mb_per_million_rows: storage.compressed_mb_per_million_rows, compression_ratio: storage.compression_ratio } : {}),
    }));
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await ingest?.stop();
    await db.drop();
  }
}
