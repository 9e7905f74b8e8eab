/**
 * The cloud side of the storm benchmark, in its own process: an Aedes cloud broker, the ingest (MQTT and
 * HTTP) on a fresh PostgreSQL database, and eight healthy edges (real Outbox + Uplink) appending telemetry
 * at a steady rate. It watches each healthy edge's stored cursor: the longest time one had records waiting
 * while its cursor did not move, and at the end what was appended but never stored.
 *
 * Talks to the orchestrator over IPC: sends {ready, mqttUrl, httpPort}; on 'stop' drains and sends the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '@safe-community/runtime';
import { freshDatabase, startAedes } from '@safe-community/testkit';
import { createIngestService } from '@safe-community/cloud-ingest';
import { Outbox, Uplink } from '@safe-community/edge-agent';

const EDGES = 8;
const PER_EDGE_PER_S = 20;
const SITE = 'storm-site';
const log = createLogger({ level: 'silent' });

export interface CloudFigures {
  other_edges_stalled_s: number;
  lost: number;
  appended: number;
  stored: number;
  poisoned: number;
  dead_letters: number;
  audit_rows: number;
  refused_before_auth: Record<string, number>;
}

const db = await freshDatabase('bench_storm');
const broker = await startAedes();
const mqttUrl = broker.url;
const ingest = createIngestService({
  logLevel: 'silent', port: 0, databaseUrl: db.url, mqttUrl, mqttProtocol: 4, clientId: `storm-ingest-${process.pid}`,
  maintenance: { enabled: false }, retry: { initialMs: 50, maxMs: 1000 },
});
await ingest.start();
// Every edge has its own identity (issue 12), the poison senders too: they play a compromised edge whose
// envelopes pass the trust checks and must still never block the others.
for (let i = 0; i < 10; i++) await ingest.edges.issue(`poison-${i}`, SITE);

const dir = await mkdtemp(join(tmpdir(), 'bench-storm-edges-'));
const edges = await Promise.all(Array.from({ length: EDGES }, async (_, i) => {
  const edge = `storm-e${i}`;
  const secret = await ingest.edges.issue(edge, SITE);
  const outbox = new Outbox({ dir: join(dir, edge), edge, site: SITE, logger: log, fsyncIntervalMs: 20 });
  await outbox.start();
  const uplink = new Uplink({ url: mqttUrl, edge, site: SITE, secret, source: outbox, logger: log, window: 4, ackTimeoutMs: 3000, backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5 } });
  await uplink.start();
  return { edge, outbox, uplink, appended: 0 };
}));

// Steady telemetry from every healthy edge, each from its own sensor (a device belongs to one edge, issue 12).
let producing = true;
const producer = setInterval(() => {
  if (!producing) return;
  for (const e of edges) {
    for (let k = 0; k < PER_EDGE_PER_S / 10; k++) {
      const n = ++e.appended;
      void e.outbox.append({ type: 'telemetry', data: { site: SITE, edge: e.edge, device: `${e.edge}-env`, metric: 'temp.c', value: n, time: new Date().toISOString() } });
    }
  }
}, 100);

// The watch: per edge, when its stored cursor last moved while records were waiting.
const watcher = new pg.Client({ connectionString: db.url });
await watcher.connect();
watcher.on('error', () => undefined);
const lastMove = new Map<string, { seq: number; at: number }>();
let longestStall = 0;
const watch = setInterval(() => {
  void watcher.query<{ edge: string; last_seq: string }>('SELECT edge, last_seq FROM edge_cursor WHERE edge LIKE $1', ['storm-e%']).then((r) => {
    const now = performance.now();
    for (const e of edges) {
      const stored = Number(r.rows.find((x) => x.edge === e.edge)?.last_seq ?? 0);
      const prev = lastMove.get(e.edge) ?? { seq: -1, at: now };
      if (stored !== prev.seq || stored >= e.appended) lastMove.set(e.edge, { seq: stored, at: now });
      else longestStall = Math.max(longestStall, (now - prev.at) / 1000);
    }
  }, () => undefined);
}, 250);

process.send!({ ready: true, mqttUrl, httpPort: ingest.address().port });

process.on('message', (msg: { stop?: boolean }) => {
  if (!msg.stop) return;
  void (async () => {
    producing = false;
    clearInterval(producer);
    // Drain: every appended record stored, or 30 s.
    const deadline = performance.now() + 30_000;
    const storedOf = async (): Promise<number> => {
      const r = await watcher.query<{ n: string }>(`SELECT count(*) AS n FROM telemetry WHERE edge LIKE 'storm-e%'`);
      return Number(r.rows[0]!.n);
    };
    const appended = edges.reduce((s, e) => s + e.appended, 0);
    let stored = await storedOf();
    while (stored < appended && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      stored = await storedOf();
    }
    clearInterval(watch);
    const dl = await watcher.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
    const audit = await watcher.query<{ n: string }>('SELECT count(*) AS n FROM api_audit');
    const c = ingest.counters();
    const metrics = await (await fetch(`http://127.0.0.1:${ingest.address().port}/metrics`)).text();
    const refused: Record<string, number> = {};
    for (const m of metrics.matchAll(/ingest_refused_before_auth_total\{reason="(\w+)"\} (\d+)/g)) refused[m[1]!] = Number(m[2]);
    const figures: CloudFigures = {
      other_edges_stalled_s: Math.round(longestStall * 100) / 100, lost: appended - stored, appended, stored,
      poisoned: c.poisoned, dead_letters: Number(dl.rows[0]!.n), audit_rows: Number(audit.rows[0]!.n), refused_before_auth: refused,
    };
    for (const e of edges) {
      await e.uplink.stop();
      await e.outbox.stop();
    }
    await watcher.end();
    await ingest.stop();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
    process.send!({ figures }, () => process.exit(0));
  })();
});
