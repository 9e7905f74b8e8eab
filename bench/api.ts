/**
 * REST API latency with a realistic alarm table: ALARMS alarms over 20 sites (a tenth still open) and
 * 50k events, served by registerApi() on PostgreSQL. Measures, over HTTP on loopback with keep-alive:
 * the alarm list for a one-site security token and for an all-sites admin, one alarm's detail, an events
 * page, and issuing a command (insert + publish). Sequential calls give the latency; a run with 16
 * concurrent clients gives the throughput of the alarm list.
 *
 * Usage: npx tsx bench/api.ts [alarms=20000] [requests=400]
 */
import Fastify from 'fastify';
import { Agent, request } from 'node:http';
import { freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { PgStore, createAlarmService, registerApi } from '@safe-community/cloud-ingest';
import { percentile, round, table } from './lib/stats.js';

const ALARMS = Number(process.argv[2] ?? 20_000);
const REQUESTS = Number(process.argv[3] ?? 400);
const ADMIN = 'bench-admin-token-0123456789abcdefghij';
const silent = createLogger({ level: 'silent' });

const db = await freshDatabase('bench_api');
const store = new PgStore({ url: db.url, logger: silent });
await store.start();
const alarms = createAlarmService({ db: store, logger: silent, pollMs: 60_000 });
await alarms.start();
let published = 0;
const app = Fastify({ logger: false });
await registerApi(app, {
  db: store, alarms, logger: silent, adminToken: ADMIN, rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
  publish: () => { published++; },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      host: '127.0.0.1', port, method, path, agent,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

try {
  // Seed in bulk: the lifecycle's raise() path is measured by the alarms benchmark, not here.
  const t0 = Date.now();
  await store.query(
    `INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, count, message, adopted, origin)
     SELECT gen_random_uuid(), 'site-' || (i % 20), 'edge-' || (i % 20), 'dev-' || i, 'door.forced',
            (ARRAY['info','minor','major','critical'])[1 + i % 4],
            CASE WHEN i % 10 = 0 THEN 'open' ELSE 'resolved' END,
            now() - make_interval(secs => i * 30), now() - make_interval(secs => i * 30), 1, 'door forced at dev-' || i, true, 'edge'
       FROM generate_series(1, $1::int) AS i`, [ALARMS]);
  await store.query(
    `INSERT INTO events (edge, seq, id, site, device, kind, severity, time, payload)
     SELECT 'edge-' || (i % 20), i, gen_random_uuid(), 'site-' || (i % 20), 'dev-' || (i % 500), 'door.forced', 'major',
            now() - make_interval(secs => i), '{}'::jsonb
       FROM generate_series(1, 50000) AS i`);
  await store.query(
    `INSERT INTO device_status (site, edge, device, online, state, at) VALUES ('site-1', 'edge-1', 'G1', true, '{}', now())`);
  await store.query('ANALYZE');
  const seedMs = Date.now() - t0;
  const security = (await call('POST', '/api/v1/users', ADMIN, { id: 'sec-1', role: 'security', sites: ['site-1'] })).text;
  const secToken = (JSON.parse(security) as { token: string }).token;
  const one = (JSON.parse((await call('GET', '/api/v1/alarms?site=site-1&limit=1', ADMIN)).text) as { alarms: Array<{ id: string }> }).alarms[0]!.id;

  const cases: Array<[string, () => Promise<{ status: number; text: string }>, number]> = [
    ['GET /alarms?state=open (1 site, security)', () => call('GET', '/api/v1/alarms?state=open&limit=100', secToken), 200],
    ['GET /alarms?state=open (all sites, admin)', () => call('GET', '/api/v1/alarms?state=open&limit=100', ADMIN), 200],
    ['GET /alarms/:id (detail)', () => call('GET', `/api/v1/alarms/${one}`, secToken), 200],
    ['GET /events?site&limit=100', () => call('GET', '/api/v1/events?site=site-1&limit=100', secToken), 200],
    ['POST /commands', () => call('POST', '/api/v1/commands', secToken, { site: 'site-1', device: 'G1', action: 'hold_open' }), 202],
  ];
  const rows: Array<Array<string | number>> = [];
  const figures: Record<string, number> = {};
  for (const [name, fn, expect] of cases) {
    for (let i = 0; i < 20; i++) await fn(); // warm-up: plans cached, connections open
    const lat: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      const r = await fn();
      lat.push(performance.now() - s);
      if (r.status !== expect) throw new Error(`${name}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    rows.push([name, percentile(lat, 50), percentile(lat, 99), Math.max(...lat)]);
    figures[name] = percentile(lat, 99);
  }
  // Throughput of the list with 16 clients at once.
  const conc = 16;
  const s = performance.now();
  let done = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (done < REQUESTS * 2) { done++; const r = await cases[0]![1](); if (r.status !== 200) throw new Error(`list under load: ${r.status}`); }
  }));
  const listRps = (REQUESTS * 2) / ((performance.now() - s) / 1000);

  console.log(`API latency, ${ALARMS} alarms (${ALARMS / 10} open) over 20 sites, 50k events, PostgreSQL; seeded in ${seedMs} ms; ${REQUESTS} sequential calls each`);
  console.log(table(['call', 'p50 ms', 'p99 ms', 'max ms'], rows));
  console.log(`alarm list with ${conc} concurrent clients: ${round(listRps, 0)} req/s; commands published: ${published}`);
  console.log(JSON.stringify({
    alarms: ALARMS, requests: REQUESTS,
    api_p99_ms: round(figures[cases[0]![0]]!, 2),
    list_all_sites_p99_ms: round(figures[cases[1]![0]]!, 2),
    detail_p99_ms: round(figures[cases[2]![0]]!, 2),
    events_p99_ms: round(figures[cases[3]![0]]!, 2),
    command_p99_ms: round(figures[cases[4]![0]]!, 2),
    list_rps_16: round(listRps, 0),
  }));
} finally {
  agent.destroy();
  await app.close();
  await alarms.stop();
  await store.stop();
  await db.drop();
}
