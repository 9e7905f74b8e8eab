/**
 * `npm run bench -- dashboards [days]`: how long each dashboard query takes on PostgreSQL at community
 * scale. Builds the schema with the ingest's migrate(), fills `days` of data (default 2) for 4 sites
 * with set-based inserts, then runs every panel, variable and annotation query with macros expanded
 * ("All" selected) over a 6-hour and a 7-day range, five times each, with JIT off as for Grafana's role. Prints a table of the slowest
 * queries and, last, one JSON line with the figures. The store is the one at DATABASE_URL (`store` in the JSON); on
 * TimescaleDB every query runs once more after every chunk is compressed (the state of all but the newest
 * two days once the compression policy has run), and the telemetry's size is measured both ways.
 */
import pg from 'pg';
import { freshDatabase } from '@safe-community/testkit';
import { migrate } from '@safe-community/cloud-ingest';
import { buildBoards, expandMacros } from '@safe-community/dashboards';
import { storageLine, storeName, telemetryStorage } from './lib/storage.js';

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
           unnest(ARRAY['wearable.heart_rate','wearable.spo2','wearable.battery','wearable.steps','wearable.lat','wearable.lon']) m`);
  // 45 of the 50 wearables are worn by an enrolled resident (care_residents, migration 0040).
  await db.query(`
    INSERT INTO care_residents (site, id, name, wearable, building, unit, team, contacts, consent)
    SELECT 'site-' || (w % 4 + 1), 'R' || w, 'Resident ' || w, 'wearable-' || w, 'b' || (w % 8), (w % 8) || '-' || (100 + w), 'team-1', '[]',
           '{"givenAt":"2026-01-01","givenBy":"family","scope":["alerts","location","vitals","activity"]}'
      FROM generate_series(1, 45) w`);
  await db.query(`
    INSERT INTO events (edge, seq, id, site, device, kind, severity, time, tags, payload)
    SELECT 'edge-' || (n % 4 + 1), n, gen_random_uuid(), 'site-' || (n % 4 + 1), 'dev-' || (n % 200), k, 'info',
           now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 200000),
           jsonb_build_object('building', 'b' || (n % 8)), jsonb_build_object('direction', 'in', 'line', 'l1', 'class', 'person', 'plate', 'P' || n, 'zone', 'z1', 'count', 3)
      FROM generate_series(1, 200000) n,
           LATERAL (SELECT (ARRAY['access.granted','access.denied','door.forced','vehicle.arrived','video.line_crossing',
                                  'video.zone_intrusion','video.crowd','camera.offline','camera.online','wearable.sos'])[n % 10 + 1] AS k) kk`);
  // Care events and alarms as the edge care monitor sends them: one care event per 200, on the residents' wearables.
  await db.query(`
    INSERT INTO events (edge, seq, id, site, device, kind, severity, time, tags, payload)
    SELECT 'edge-' || (w % 4 + 1), 1000000 + n, gen_random_uuid(), 'site-' || (w % 4 + 1), 'wearable-' || w, k, 'major',
           now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 1000),
           jsonb_build_object('building', 'b' || (w % 8), 'resident', 'R' || w, 'category', 'safety', 'episode', 'R' || w || '-' || (n / 4)),
           jsonb_build_object('message', k || ' of resident R' || w)
      FROM generate_series(1, 1000) n, LATERAL (SELECT n % 45 + 1 AS w) ww,
           LATERAL (SELECT (ARRAY['care.sos','care.fall','care.wandering','care.inactivity','care.vitals','care.battery_low',
                                  'care.device_silent','care.fall_cancelled','care.vitals_cleared','care.device_back'])[n % 10 + 1] AS k) kk`);
  await db.query(`
    INSERT INTO incidents (id, site, group_key, state, severity, opened_at, last_alarm_at, closed_at)
    SELECT gen_random_uuid(), e.site, 'resident:' || (e.tags->>'resident') || ':' || (e.tags->>'episode'), CASE WHEN e.seq % 10 = 0 THEN 'open' ELSE 'closed' END,
           'major', e.time, e.time, CASE WHEN e.seq % 10 = 0 THEN NULL ELSE e.time + INTERVAL '30 minutes' END
      FROM (SELECT DISTINCT ON (tags->>'episode') * FROM events WHERE kind LIKE 'care.%' ORDER BY tags->>'episode', time) e`);
  // One alarm per 40 events, raised a second after its source event; one in ten still active.
  await db.query(`
    INSERT INTO alarms (id, site, device, type, severity, state, raised_at, last_seen_at, message, source_event_id, tags, acknowledged_at, resolved_at)
    SELECT gen_random_uuid(), e.site, 'dev-' || e.seq, e.kind, (ARRAY['critical','major','minor','info'])[e.seq % 4 + 1],
           CASE WHEN e.seq % 400 = 0 THEN 'open' ELSE 'resolved' END, e.time + INTERVAL '1 second', e.time + INTERVAL '1 second', 'alarm ' || e.seq, e.id, e.tags,
           e.time + INTERVAL '2 minutes', CASE WHEN e.seq % 400 = 0 THEN NULL ELSE e.time + INTERVAL '20 minutes' END
      FROM events e WHERE e.seq % 40 = 0 AND e.seq <= 200000`);
  // Care alarms on their incidents; at most one active per wearable and type (alarms_one_active).
  await db.query(`
    INSERT INTO alarms (id, site, device, type, severity, state, raised_at, last_seen_at, message, source_event_id, tags, resolved_at, incident_id)
    SELECT gen_random_uuid(), c.site, c.device, c.kind, c.severity, CASE WHEN c.active THEN 'open' ELSE 'resolved' END,
           c.time, c.time, c.payload->>'message', c.id, c.tags, CASE WHEN c.active THEN NULL ELSE c.time + INTERVAL '20 minutes' END, c.incident
      FROM (SELECT e.*, i.id AS incident,
                   i.state = 'open' AND row_number() OVER (PARTITION BY e.site, e.device, e.kind, i.state ORDER BY e.time DESC) = 1 AS active
              FROM events e JOIN incidents i ON i.site = e.site AND i.group_key = 'resident:' || (e.tags->>'resident') || ':' || (e.tags->>'episode')
             WHERE e.kind IN ('care.sos','care.fall','care.wandering','care.inactivity','care.vitals','care.battery_low','care.device_silent')) c`);
  await db.query(`INSERT INTO edge_cursor (edge, site, last_seq, updated_at) SELECT 'edge-' || s, 'site-' || s, 1000, now() FROM generate_series(1, 4) s`);
  await db.query(`
    INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions)
    SELECT 'edge-1', n, gen_random_uuid(), 'site-1', 'fire-evacuation', gen_random_uuid(), t, t + INTERVAL '3 seconds', 'confirmed',
           '[{"device":"gate-1","action":"hold_open","status":"confirmed","attempts":1,"sentAfterMs":2,"confirmedAfterMs":40}]'::jsonb
      FROM generate_series(1, 2000) n, LATERAL (SELECT now() - ${span} + make_interval(secs => n * ${days} * 86400.0 / 2000) AS t) tt`);
  await db.query('ANALYZE');
  const counts: Record<string, number> = {};
  for (const table of ['telemetry', 'events', 'alarms', 'incidents', 'care_residents', 'linkage_executions']) {
    counts[table] = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0);
  }
  return counts;
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const fresh = await freshDatabase('bench_dash');
const db = new pg.Client({ connectionString: fresh.url });
await db.connect();
try {
  await migrate(db);
  // As Grafana's role runs (docker-compose.yml): JIT compilation costs more than these queries save.
  await db.query('SET jit = off');
  const t0 = performance.now();
  const rows = await fill(db);
  const store = await storeName(db);
  // The rollups as their refresh leaves them (long-range panels read telemetry_1m): plain, the maintenance
  // timer's refresh_rollups(); TimescaleDB, what its refresh policies do.
  if (store === 'timescaledb') {
    for (const v of ['telemetry_1m', 'events_1m', 'telemetry_1h']) await db.query(`CALL refresh_continuous_aggregate('${v}', NULL, NULL)`);
  } else {
    await db.query('SELECT refresh_rollups()');
  }
  await db.query('ANALYZE'); // the rollups' statistics, as autovacuum would gather them
  const fillS = (performance.now() - t0) / 1000;
  const now = Date.now();
  const ranges = [
    { name: '6h', ms: 6 * 3600_000, intervalMs: 30_000 },
    { name: '7d', ms: 7 * 86_400_000, intervalMs: 600_000 },
  ];
  const runAll = async (): Promise<{ query: string; range: string; p50: number }[]> => {
    const out: { query: string; range: string; p50: number }[] = [];
    for (const board of buildBoards()) {
      for (const q of board.queries) {
        for (const r of ranges) {
          const sql = expandMacros(q.query.toSql(), {
            from: new Date(now - r.ms),
            to: new Date(now),
            intervalMs: r.intervalMs,
            variables: { site: { all: true }, building: { all: true } },
          });
          const times: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const s = performance.now();
            await db.query(sql);
            times.push(performance.now() - s);
          }
          out.push({ query: `${board.uid} / ${q.panel}`, range: r.name, p50: p50(times) });
        }
      }
    }
    return out;
  };
  const results = await runAll();
  // On TimescaleDB this compresses every chunk; the queries then run again on the compressed data.
  const storage = await telemetryStorage(db);
  let compressed: typeof results = [];
  if (store === 'timescaledb') {
    await db.query('ANALYZE');
    compressed = await runAll();
  }
  results.sort((a, b) => b.p50 - a.p50);
  console.log(`rows: ${Object.entries(rows).map(([k, v]) => `${k}=${v}`).join(' ')}  (filled in ${fillS.toFixed(1)} s)`);
  console.log(`${'query'.padEnd(72)} ${'range'.padEnd(5)} ${'p50 ms'.padStart(8)}`);
  for (const r of results.slice(0, 15)) console.log(`${r.query.padEnd(72)} ${r.range.padEnd(5)} ${r.p50.toFixed(1).padStart(8)}`);
  const by = (rs: typeof results, range: string): number[] => rs.filter((r) => r.range === range).map((r) => r.p50);
  console.log(`... ${results.length} query runs in all`);
  console.log(storageLine(storage));
  const figures = (rs: typeof results, suffix: string): Record<string, number> => ({
    [`p50_ms_median_6h${suffix}`]: +p50(by(rs, '6h')).toFixed(1),
    [`p50_ms_max_6h${suffix}`]: +Math.max(...by(rs, '6h')).toFixed(1),
    [`p50_ms_median_7d${suffix}`]: +p50(by(rs, '7d')).toFixed(1),
    [`p50_ms_max_7d${suffix}`]: +Math.max(...by(rs, '7d')).toFixed(1),
  });
  if (compressed.length > 0) {
    compressed.sort((a, b) => b.p50 - a.p50);
    console.log('after compressing every chunk:');
    for (const r of compressed.slice(0, 5)) console.log(`${r.query.padEnd(72)} ${r.range.padEnd(5)} ${r.p50.toFixed(1).padStart(8)}`);
  }
  console.log(
    JSON.stringify({
      bench: 'dashboards',
      store,
      days,
      rows,
      queries: results.length / ranges.length,
      ...figures(results, ''),
      slowest: results[0] ? `${results[0].query} (${results[0].range})` : null,
      ...(compressed.length > 0 ? { ...figures(compressed, '_compressed'), slowest_compressed: `${compressed[0]!.query} (${compressed[0]!.range})` } : {}),
      telemetry_mb_per_million_rows: storage.mb_per_million_rows,
      ...(storage.compression_ratio !== undefined ? { compressed_mb_per_million_rows: storage.compressed_mb_per_million_rows, compression_ratio: storage.compression_ratio } : {}),
    }),
  );
} finally {
  await db.end();
  await fresh.drop();
}
