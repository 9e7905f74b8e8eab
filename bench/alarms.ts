/**
 * `npm run bench -- alarms [seconds]`: events through the cloud rules at a fixed offered rate (BENCH_RATE,
 * default 10 000 events/s, in batches of BENCH_BATCH = 100 every 10 ms), 1 % of them matching a rule
 * (double knock, door forced + person), against PostgreSQL, fed as the ingest feeds them (`evaluate`, in
 * commit order, without waiting for the previous batch's durable writes). Measures, per batch:
 * - rule evaluation (`evaluate`: the in-memory verdict and the queueing of its durable writes), p50/p99;
 * - batch in → its alarms durable (the group commit that holds them has committed), p50/p99, and which
 *   share of that is the COMMIT round trip (the WAL flush);
 * and the events and alarms per second achieved and, under that load, `GET /api/v1/alarms?limit=50`
 * through the real REST API (a client polling every 20 ms with an admin token). Goal: rule p99 < 5 ms.
 * BENCH_DURABLE=0 runs the rules with durableCommit: false (no wait for the WAL flush).
 */
import pg from 'pg';
import { loadavg } from 'node:os';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import type { Event } from '@safe-community/contracts';
import { AlarmLifecycle, RuleEngine, emptyCommitted, migrate, parseRuleSet } from '@safe-community/cloud-ingest';

const SECONDS = Number(process.argv[2] ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const MATCH_SHARE = 0.01;
/** BENCH_DURABLE=0 runs the rules with durableCommit: false (no WAL flush wait per match). */
const DURABLE = process.env.BENCH_DURABLE !== '0';
const LOAD_AT_START = Math.round(loadavg()[0]! * 100) / 100;

const RULES = parseRuleSet(`
version: 1
rules:
  - { id: knock, type: double_knock, kinds: [fire.alarm], windowSec: 30, distinct: device,
      alarm: { type: fire.confirmed, severity: critical, message: double knock } }
  - { id: door-person, type: door_forced_person, doorKinds: [door.forced], personKinds: [video.person], windowSec: 30,
      alarm: { type: intrusion.confirmed, severity: major, message: door forced and a person } }
`);

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const db = await freshDatabase('bench_alarms');
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  const log = createLogger({ level: 'warn' });
  await migrate(pool);
  const alarms = new AlarmLifecycle({ db: pool, logger: log });
  const rules = new RuleEngine({ alarms, rules: RULES, logger: log, durableCommit: DURABLE });
  await alarms.start();
  await rules.start();

  // The real REST API on its own Fastify app, with an admin token (its tables come from migration 0030).
  const token = `bench-${randomUUID()}`;
  const app = Fastify({ logger: false });
  let apiNote = 'REST API GET /api/v1/alarms?limit=50';
  try {
    const { registerApi } = await import('../cloud-ingest/src/api/register.js');
    await registerApi(app, { db: { query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows, runner: () => pool }, alarms, publish: async () => undefined,
      adminToken: token, logger: log, rateLimit: { max: 1_000_000, timeWindowMs: 60_000 } });
  } catch (err) {
    // The API is another part of the service; without it the bench measures the service call behind the route.
    apiNote = `service list() (API unavailable: ${(err as Error).message})`;
    app.get('/api/v1/alarms', async () => alarms.list({ sites: '*', limit: 50 }));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const evalMs: number[] = [];
  const durableMs: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const apiMs: number[] = [];
  let events = 0;
  let raised = 0;
  let seq = 0;
  const period = (BATCH / RATE) * 1000;
  const batches = Math.round((SECONDS * RATE) / BATCH);
  const perMatch = Math.round(1 / MATCH_SHARE);

  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/alarms?limit=50`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`alarm list answered ${res.status}`);
      apiMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const due = start + b * period;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const list: Event[] = [];
    const now = new Date().toISOString();
    for (let i = 0; i < BATCH; i++) {
      seq++;
      const match = seq % perMatch === 0;
      const building = `b${(seq / perMatch) % 40 | 0}`;
      const kind = !match ? (seq % 3 ? 'video.car' : 'gate.passage') : (seq / perMatch) % 2 ? 'fire.alarm' : (seq / perMatch) % 4 ? 'door.forced' : 'video.person';
      list.push({ id: randomUUID(), site: `site-${seq % 5}`, edge: 'edge-1', device: `dev-${seq % 997}`, kind, severity: 'major', edgeTime: now, tags: { building }, payload: {} });
    }
    const t0 = performance.now();
    const { durable } = rules.evaluate({ ...emptyCommitted(), events: list });
    evalMs.push(performance.now() - t0);
    events += list.length;
    inFlight.push(durable.then((out) => {
      durableMs.push(performance.now() - t0);
      raised += out.length;
    }));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  const commits = { ...rules.commitStats() };
  polling = false;
  await poller;

  const stored = (await pool.query('SELECT count(*)::int AS n FROM alarms')).rows[0].n as number;
  await app.close();
  await rules.stop();
  await alarms.stop();
  await pool.end();
  await db.drop();

  const rulP99 = r2(pct(evalMs, 99));
  const fig = {
    bench: 'alarms', events_per_s: Math.round(events / elapsed), offered_per_s: RATE, rule_p50_ms: r2(pct(evalMs, 50)), rule_p99_ms: rulP99,
    rule_max_ms: r2(Math.max(...evalMs)), durable_p50_ms: r2(pct(durableMs, 50)), durable_p99_ms: r2(pct(durableMs, 99)),
    commits: commits.flushes, matches_per_commit: r2(commits.items / Math.max(1, commits.flushes)), max_matches_per_commit: commits.maxItems,
    // The COMMIT round trip (the WAL flush when durable) against the whole transaction, summed over the run.
    commit_ms_mean: r2(commits.commitMs / Math.max(1, commits.flushes)), commit_share_of_tx: r2(commits.commitMs / Math.max(1e-9, commits.txMs)),
    alarms_per_s: r2(raised / elapsed), alarms_stored: stored, api_p50_ms: r2(pct(apiMs, 50)),
    api_p99_ms: r2(pct(apiMs, 99)), api_requests: apiMs.length, durable_commit: DURABLE, batch: BATCH, seconds: r2(elapsed), rule_errors: rules.counters.errors,
    load_average_1m: r2(loadavg()[0]!), load_average_at_start: LOAD_AT_START,
    met: { rule_p99_under_5ms: rulP99 < 5, events_per_s_at_offered: events / elapsed >= 0.98 * RATE, no_rule_errors: rules.counters.errors === 0 },
  };
  console.log(`alarms bench: ${events} events in ${fig.seconds} s, batches of ${BATCH}, ${MATCH_SHARE * 100} % matching, PostgreSQL`);
  console.log(`API figure: ${apiNote}`);
  console.log('| figure | value |\n| --- | --- |');
  for (const [k, v] of Object.entries(fig)) console.log(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
  console.log(JSON.stringify(fig));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
