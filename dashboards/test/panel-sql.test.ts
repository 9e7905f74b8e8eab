/**
 * Every query of every dashboard (panels, variables, the alarm annotation) and every alert rule runs
 * against a real PostgreSQL built by the ingest's migrations and seeded with a small community, and
 * again on the embedded PGlite store, with Grafana's macros and variables expanded as Grafana would:
 * "All", one value, and several values.
 */
import t, { type Test } from 'tap';
import pg from 'pg';
import { compressAllChunks, expectedStore, freshDatabase } from '@safe-community/testkit';
import { alertRules, buildBoards, expandMacros, type ColumnKind, type PanelQuery, type VariableValue } from '../src/index.js';
import { PgliteStore } from '@safe-community/cloud-ingest';
import { buildSchema } from './helpers/schema.js';
import { seed } from './helpers/seed.js';

// PostgreSQL type OIDs Grafana's datasource maps onto each column kind.
const KIND_OIDS: Record<ColumnKind, number[]> = {
  time: [1184, 1114],
  number: [20, 21, 23, 700, 701, 1700],
  text: [25, 1043, 19],
  bool: [16],
  json: [114, 3802],
};

const selections: { name: string; vars: Record<string, VariableValue> }[] = [
  { name: 'all', vars: { site: { all: true }, building: { all: true } } },
  { name: 'one site, one building', vars: { site: 'site-b', building: 'b2' } },
  { name: 'several', vars: { site: ['site-a', 'site-b'], building: ['b1', 'b2'] } },
];

/** What the checks need of a database connection; pg.Client and PGlite both fit. */
interface Db {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; fields: { name: string; dataTypeID: number }[] }>;
}

const now = new Date();

const ctx = (vars: Record<string, VariableValue>) => ({
  from: new Date(now.getTime() - 6 * 3600_000),
  to: new Date(now.getTime() + 60_000),
  intervalMs: 60_000,
  variables: { ...vars, ALARM_PAGE_URL: 'http://localhost:8080' },
});

async function check(tt: Test, client: Db, q: PanelQuery, sel: (typeof selections)[number]): Promise<void> {
  const sql = expandMacros(q.query.toSql(), ctx(sel.vars));
  let res: Awaited<ReturnType<Db['query']>>;
  try {
    res = await client.query(sql);
  } catch (err) {
    tt.fail(`${q.panel} [${sel.name}]: ${(err as Error).message}\n${sql}`);
    return;
  }
  const expected = q.query.columns;
  tt.same(res.fields.map((f) => f.name), expected.map((c) => c.name), `${q.panel} [${sel.name}] returns its columns`);
  for (const [i, c] of expected.entries()) {
    const f = res.fields[i];
    if (f && !KIND_OIDS[c.kind].includes(f.dataTypeID)) tt.fail(`${q.panel}: column ${c.name} is type ${f.dataTypeID}, panel expects ${c.kind}`);
  }
  if (sel.name === 'all') {
    tt.ok(res.rows.length >= q.minRows, `${q.panel} has at least ${q.minRows} row(s) on seeded data (got ${res.rows.length})`);
    // A count over nothing still gives one row of zeros; seeded data must give a real figure somewhere.
    const numbers = expected.filter((c) => c.kind === 'number').map((c) => c.name);
    if (numbers.length > 0) {
      const figure = res.rows.some((r) => numbers.some((n) => r[n] !== null && Number(r[n]) !== 0));
      tt.ok(figure, `${q.panel} shows a non-zero figure on seeded data`);
    }
  }
  // Where a row names its site, the site filter must hold.
  if (sel.name === 'one site, one building' && expected.some((c) => c.name === 'site')) {
    tt.ok(res.rows.every((r) => r.site === 'site-b'), `${q.panel}: only site-b rows for site=site-b`);
  }
}

/** Every dashboard query and alert rule against one seeded database. */
async function suite(t: Test, client: Db): Promise<void> {
  for (const board of buildBoards()) {
    await t.test(board.uid, async (tt) => {
      tt.ok(board.queries.length >= 4, 'board has its queries');
      for (const q of board.queries) for (const sel of selections) await check(tt, client, q, sel);
    });
  }

  await t.test('active alarms carry their source event snapshot, most severe first', async (tt) => {
    const q = buildBoards().find((b) => b.uid === 'sc-alarm-console')?.queries.find((x) => x.panel === 'Active alarms');
    const res = await client.query(expandMacros(q!.query.toSql(), ctx(selections[0]!.vars)));
    const rows = res.rows as { severity: string; type: string; snapshot: string | null; state: string; clips: number | string }[];
    tt.equal(rows[0]?.severity, 'critical', 'critical first');
    tt.equal(rows.find((r) => r.type === 'fire.alarm')?.snapshot, 'snap/fire-1.jpg', 'snapshot from the fire event');
    tt.equal(Number(rows.find((r) => r.type === 'fire.alarm')?.clips), 1, 'the fire alarm\'s uploaded clip is counted (not the one still uploading)');
    tt.ok(rows.filter((r) => r.type !== 'fire.alarm').every((r) => Number(r.clips) === 0), 'alarms without clips count none');
    tt.ok(rows.every((r) => ['open', 'acknowledged', 'dispatched'].includes(r.state)), 'only alarms that need a person');
  });

  await t.test('elderly care: a status board per resident, their positions, care alarms, events and incidents', async (tt) => {
    const care = buildBoards().find((b) => b.uid === 'sc-elderly-care')!;
    const run = async (panel: string, sel = selections[0]!): Promise<Record<string, unknown>[]> =>
      (await client.query(expandMacros(care.queries.find((q) => q.panel === panel)!.query.toSql(), ctx(sel.vars)))).rows;

    const board = await run('Residents');
    const row = (key: string) => board.find((r) => r.resident === key || (r.resident === null && r.wearable === key));
    tt.match(row('R1'), { name: 'Wang Lan', unit: '1-301', building: 'b1', wearable: 'wearable-1', spo2_pct: 97, open_alarms: 3, worst_severity: 'critical' },
      'R1: vitals from wearable.* telemetry; care.sos, care.vitals and the wearable.sos alarm are open');
    tt.ok(Number(row('R1')?.heart_rate_bpm) >= 70 && Number(row('R1')?.battery_pct) > 0, 'R1: heart rate and battery');
    tt.match(row('R2'), { name: 'Li Ming', wearable: 'wearable-2', battery_pct: 15, open_alarms: 1, worst_severity: 'major' },
      'R2: the dispatched fall counts, the resolved battery alarm does not');
    tt.match(row('R3'), { name: 'Zhao Hua', wearable: 'wearable-3', last_seen: null, battery_pct: null, open_alarms: 0 }, 'an enrolled resident whose wearable is silent still shows');
    tt.match(row('wearable-4'), { resident: null, name: null, site: 'site-a', heart_rate_bpm: 66, open_alarms: 0 }, 'a wearable without a resident still shows');
    tt.equal(board[0]?.resident, 'R1', 'the resident with the worst open alarm first');
    tt.same((await run('Residents', selections[1]!)).map((r) => r.resident), ['R2'], 'site-b, building b2: R2 only (building from the wearable)');
    tt.same((await run('Residents', { name: 'b1', vars: { site: 'site-a', building: 'b1' } })).map((r) => r.resident).sort(), ['R1', 'R3'], 'site-a, building b1: by the residents\' building');

    const map = await run('Last known location');
    tt.same(map.map((r) => r.name).sort(), ['Li Ming', 'Wang Lan', 'wearable-4'], 'the map names each resident; a wearable without one by its id');
    tt.match(map.find((r) => r.resident === 'R1'), { latitude: 39.9042, longitude: 116.4074 });

    const events = await run('Care events');
    for (const kind of ['care.sos', 'care.vitals', 'care.battery_low', 'care.fall_cancelled', 'care.device_back', 'wearable.sos', 'wearable.fall']) {
      tt.ok(events.some((e) => e.kind === kind), `care events show ${kind}`);
    }
    tt.match(events.find((e) => e.kind === 'care.sos'), { resident: 'R1', name: 'Wang Lan', message: 'SOS from Wang Lan (R1)' });
    tt.match(events.find((e) => e.kind === 'wearable.fall'), { resident: 'R2', name: 'Li Ming' }, 'an event without a resident tag is the wearer\'s');

    const alarms = await run('Open care alarms');
    tt.same(alarms.map((a) => a.type).sort(), ['care.sos', 'care.vitals', 'wearable.fall', 'wearable.sos'], 'active care and wearable alarms only');
    tt.match(alarms[0], { type: 'care.sos', severity: 'critical', resident: 'R1', name: 'Wang Lan', category: 'safety' }, 'most severe first');

    const incidents = await run('Care incidents');
    tt.same(incidents.map((i) => [i.resident, i.state, i.alarms, i.active_alarms]), [['R1', 'open', 2, 2], ['R2', 'closed', 1, 0]],
      'resident incidents only, open first, with their alarm counts');
    tt.match(incidents[0], { name: 'Wang Lan', episode: 'R1-20260101T000000Z', severity: 'critical', types: 'care.sos, care.vitals' });
    tt.equal(incidents[1]?.episode, null, 'an incident keyed by the resident alone has no episode');
  });

  await t.test('long ranges read the per-minute rollup and give the raw rows\' averages', async (tt) => {
    const care = buildBoards().find((b) => b.uid === 'sc-elderly-care')!;
    // Bins of 10 minutes from a 10-minute boundary to a minute boundary past the data, so the raw
    // reference and the rollup's whole minutes cover the same rows.
    const from = new Date(Math.floor((now.getTime() - 6 * 3600_000) / 600_000) * 600_000);
    const to = new Date(Math.ceil((now.getTime() + 60_000) / 60_000) * 60_000);
    const wide = { from, to, intervalMs: 600_000, variables: { ...selections[0]!.vars, ALARM_PAGE_URL: 'http://localhost:8080' } };
    const panels: [string, string][] = [['Heart rate', 'wearable.heart_rate'], ['SpO2', 'wearable.spo2'], ['Battery', 'wearable.battery']];
    const read = async (panel: string) =>
      (await client.query(expandMacros(care.queries.find((q) => q.panel === panel)!.query.toSql(), wide))).rows
        .map((r) => [new Date(r.time as string).toISOString(), r.wearable, Number(r.value)] as const)
        .sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
    const variant = (await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)).rows.length > 0 ? 'timescale' : 'plain';
    if (variant === 'plain') {
      // Plain PostgreSQL: the rollup is a materialized view, so until its refresh the wide bins are empty,
      // which shows they come from it and not from the raw rows.
      tt.same(await read('Heart rate'), [], 'nothing before the rollup is refreshed');
      await client.query('SELECT refresh_rollups()'); // what the maintenance timer does every minute
    } else {
      // TimescaleDB: real-time aggregation reads raw rows only above the aggregate's watermark. When the
      // minute's refresh policy ran on the fresh database before the seed, the seeded history lies below the
      // watermark and appears with the policy's next run; run that refresh now rather than race it.
      await client.query(`CALL refresh_continuous_aggregate('telemetry_1m', NULL, NULL)`);
    }
    for (const [panel, metric] of panels) {
      const ref = (await client.query(
        `SELECT date_bin('10 minutes', time, TIMESTAMPTZ '2000-01-01') AS time, device AS wearable, avg(value) AS value FROM telemetry
          WHERE metric = $1 AND time BETWEEN $2 AND $3 GROUP BY 1, 2`, [metric, from.toISOString(), to.toISOString()])).rows
        .map((r) => [new Date(r.time as string).toISOString(), r.wearable, Number(r.value)] as const)
        .sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1]));
      const got = await read(panel);
      tt.ok(ref.length > 0, `${panel}: seeded rows in range`);
      tt.same(got.map((r) => [r[0], r[1]]), ref.map((r) => [r[0], r[1]]), `${panel}: the same bins and wearables`);
      tt.ok(got.every((r, i) => Math.abs(r[2] - ref[i]![2]) < 1e-9), `${panel}: the same averages (${variant})`);
    }
  });

  await t.test('alert rules', async (tt) => {
    for (const rule of alertRules) {
      const res = await client.query(rule.query.toSql());
      tt.ok(res.fields.some((f) => f.name === 'value' && KIND_OIDS.number.includes(f.dataTypeID)), `${rule.uid} returns a numeric value`);
      tt.ok(
        res.rows.some((r) => Number(r.value) > rule.above),
        `${rule.uid} fires on the seeded trouble`,
      );
    }
  });
}

t.test('on PostgreSQL', async (t) => {
  const db = await freshDatabase('dash');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(async () => {
    await client.end();
    await db.drop();
  });
  t.comment(`schema built with ${await buildSchema(client)}`);
  const variant = await expectedStore();
  const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  t.equal(ext.rows.length > 0, variant === 'timescale', `the ${variant} variant`);
  await seed(client, now);
  await suite(t, client);
  if (variant === 'timescale') await compressedReadsTheSame(t, client);
});

/**
 * TimescaleDB: every panel, variable and alert query gives the same rows after every chunk is compressed
 * (issue 17) as before, and the whole suite's checks hold on the compressed data too.
 */
async function compressedReadsTheSame(t: Test, client: Db): Promise<void> {
  const queries = [...buildBoards().flatMap((b) => b.queries.map((q) => ({ name: `${b.uid} / ${q.panel}`, sql: q.query.toSql() }))),
    ...alertRules.map((r) => ({ name: `alert ${r.uid}`, sql: r.query.toSql() }))];
  const readAll = async (): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const q of queries) {
      for (const sel of selections) {
        // Compared as sorted row sets: a query without ORDER BY may return its rows in another order.
        const rows = (await client.query(expandMacros(q.sql, ctx(sel.vars)))).rows.map((r) => JSON.stringify(r)).sort();
        out.set(`${q.name} [${sel.name}]`, rows);
      }
      // Ten-minute bins: long-range panels read the real-time rollup over the (compressed) raw rows.
      const wide = { ...ctx(selections[0]!.vars), intervalMs: 600_000 };
      out.set(`${q.name} [10-minute bins]`, (await client.query(expandMacros(q.sql, wide))).rows.map((r) => JSON.stringify(r)).sort());
    }
    return out;
  };
  // One transaction: now() stays the same, so ages and "last hour" figures compare exactly.
  await client.query('BEGIN');
  const before = await readAll();
  t.ok(await compressAllChunks(client) > 0, 'every chunk compressed');
  const after = await readAll();
  await client.query('COMMIT');
  for (const [key, rows] of before) t.same(after.get(key), rows, `${key}: the same rows from compressed chunks`);
  await t.test('the checks on compressed chunks', (tt) => suite(tt, client));
}

// The embedded store of the zero-setup default (DESIGN.md "Embedded defaults") runs the same SQL.
t.test('on embedded PGlite', async (t) => {
  const store = new PgliteStore();
  await store.start();
  t.teardown(() => store.stop());
  const client = store.runner() as unknown as Db;
  await seed(client, now);
  await suite(t, client);
});

t.test('dashboard JSON carries exactly the tested SQL', async (tt) => {
  for (const board of buildBoards()) {
    const tested = new Set(board.queries.map((q) => q.query.toSql()));
    const d = board.dashboard as unknown as {
      panels?: { title?: string; targets?: { rawSql?: string }[] }[];
      templating?: { list?: { type: string; query?: unknown }[] };
      annotations?: { list?: { target?: { rawSql?: string } }[] };
    };
    const inJson: string[] = [];
    for (const p of d.panels ?? []) {
      tt.ok((p.targets ?? []).length > 0, `${board.uid} / ${p.title}: panel has a query`);
      for (const target of p.targets ?? []) inJson.push(target.rawSql ?? '');
    }
    for (const v of d.templating?.list ?? []) if (v.type === 'query') inJson.push(String(v.query));
    for (const a of d.annotations?.list ?? []) if (a.target) inJson.push(a.target.rawSql ?? '');
    for (const sql of inJson) tt.ok(tested.has(sql), `${board.uid}: SQL in JSON was tested: ${sql.slice(0, 60)}`);
    tt.equal(inJson.length, tested.size, `${board.uid}: every tested query is in the JSON`);
  }
});
