/**
 * `npm run bench -- dashboards [days]`: how long each dashboard query takes on PostgreSQL at community
 * scale. Builds the schema with the ingest's migrate(), fills `days` of data (default 2) for 4 sites
 * with set-based inserts, then runs every panel, variable and annotation query with macros expanded
 * ("All" selected) over a 6-hour and a 7-day range, five times each. Prints a table of the slowest
 * queries and, last, one JSON line with the figures.
 */
import pg from 'pg';
import { freshDatabase } from '@safe-community/testkit';
import { migrate } from '@safe-community/cloud-ingest';
import { buildBoards, expandMacros } from './src/index.js';

const days = Number(process.argv[2] ?? 2);
const RUNS = 5;

async function fill(db: pg.Client): Promise<Record<string, number>> {
  await db.query(`SELECT ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - ${days + 1}, ${days + 3})`);
  const span = `INTERVAL '${days} days'`;
  // Edge metrics every 10 s per edge; wearables every minute; events and alarms spread over the span.
  await db.query(`
    INSERT INTO telemetry (edge, seq, site, device, metric, value, time)
    SELECT 'edge-' || s, n, 'site-' || s, 'edge-' || s, m, random() * 100, now() - ${span} + make_interval(secs => n * 10)
      FROM generate_series(1, 4) s, generate_series(0, ${days} * 8640) n,
           unnest(ARRAY['edge.inference_ms','edge.fps','edge.dropped_frames','edge.outbox_depth','edge.outbox_oldest_age_s',
                        'edge.uplink_lag_ms','edge.cpu_percent','edge.memory_mb']) m`);
  await db.query(`
    INSERT INTO telemetry (edge, seq, site, device, metric, value, time)
    SELECT 'edge-' || (w % 4 + 1), n, 'site-' || (w % 4 + 1), 'wearable-' || w, m, random() * 100, now() - ${span} + make_interval(mins => n)
      FROM generate_series(1, 50) w, generate_series(0, ${days} * 1440) n,
           unnest(ARRAY['wearable.heart_rate','wearable.spo2','wearable.battery','wearable.lat','wearable.lon']) m`);
  await db.query(`
    INSERT INTO events (edge, seq, id, site, device, kind, severity, time, tags, payload)
    SELECT 'edge-' || (n % 4 + 1), n, gen_random_uuid(), 'site-' || (n % 4 + 1), 'dev-' || (n % 200), k, 'info',
           now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 200000),
           jsonb_build_object('building', 'b' || (n % 8)), jsonb_build_object('direction', 'in', 'line', 'l1', 'class', 'person', 'plate', 'P' || n, 'zone', 'z1', 'count', 3)
      FROM generate_series(1, 200000) n,
           LATERAL (SELECT (ARRAY['access.granted','access.denied','door.forced','vehicle.arrived','video.line_crossing',
                                  'video.zone_intrusion','video.crowd','camera.offline','camera.online','wearable.sos'])[n % 10 + 1] AS k) kk`);
  await db.query(`
    INSERT INTO alarms (id, site, device, type, severity, state, raised_at, last_seen_at, message, tags, acknowledged_at, resolved_at)
    SELECT gen_random_uuid(), 'site-' || (n % 4 + 1), 'dev-' || n, 'door.forced', (ARRAY['critical','major','minor','info'])[n % 4 + 1],
           CASE WHEN n % 10 = 0 THEN 'open' ELSE 'resolved' END, t, t, 'alarm ' || n, jsonb_build_object('building', 'b' || (n % 8)),
           t + INTERVAL '2 minutes', CASE WHEN n % 10 = 0 THEN NULL ELSE t + INTERVAL '20 minutes' END
      FROM generate_series(1, 5000) n, LATERAL (SELECT now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 5000) AS t) tt`);
  await db.query(`
    INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions)
    SELECT 'edge-1', n, gen_random_uuid(), 'site-1', 'fire-evacuation', gen_random_uuid(), t, t + INTERVAL '3 seconds', 'confirmed',
           '[{"device":"gate-1","action":"hold_open","status":"confirmed","attempts":1,"sentAfterMs":2,"confirmedAfterMs":40}]'::jsonb
      FROM generate_series(1, 2000) n, LATERAL (SELECT now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 2000) AS t) tt`);
  await db.query('ANALYZE');
  const counts: Record<string, number> = {};
  for (const table of ['telemetry', 'events', 'alarms', 'linkage_executions']) {
    counts[table] = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0);
  }
  return counts;
}


const fresh = await freshDatabase('scr_dash');
const db = new pg.Client({ connectionString: fresh.url });
await db.connect();
await migrate(db);
console.log(await fill(db));
console.log(fresh.name);
const now = Date.now();
for (const b of buildBoards()) for (const q of b.queries) if (['Active alarms','Residents','Edges','Last known location'].includes(q.panel)) {
  console.log('=== ' + q.panel);
  console.log(expandMacros(q.query.toSql(), { from: new Date(now - 6*3600e3), to: new Date(now), intervalMs: 30000, variables: { site: { all: true }, building: { all: true } } }) + ';');
}
await db.end();
