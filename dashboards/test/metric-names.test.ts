/**
 * Cross-check of telemetry names: every metric a dashboard panel, variable, annotation or alert rule
 * queries must be one something sends (a device profile, as `<kind>.<name>`, or the edge agent itself,
 * as `edge.*`), or the panel stays empty on live data however well it does on seeded data. The other way
 * round, every metric sent is either charted or listed in NOT_CHARTED with the reason, so nothing is
 * left out silently. The care kinds the Elderly care board reads are checked against the edge care
 * monitor's the same way.
 *
 * The edge agent is an app (DESIGN.md: nothing imports an app), so its names are read from its source.
 */
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceMetrics, loadProfiles } from '@safe-community/firmware-configs';
import { alertRules, buildBoards } from '../src/index.js';
import { CARE_ALARM_KINDS, CARE_NOTICE_KINDS } from '../src/boards/elderly-care.js';

const EDGE_SRC = fileURLToPath(new URL('../../edge-agent/src', import.meta.url));

/** Sent but on no dashboard, on purpose. An entry that becomes charted, or is no longer sent, fails the test. */
const NOT_CHARTED: Readonly<Record<string, string>> = {
  'env_sensor.temperature': 'no environment dashboard yet; kept for the API (GET /telemetry) and later rollups',
  'env_sensor.humidity': 'no environment dashboard yet',
  'env_sensor.pm25': 'no environment dashboard yet',
  'env_sensor.battery': 'no environment dashboard yet; the device-offline rule covers dead sensors',
};

/** Metric names an SQL text compares `metric` with: `metric = '<name>'` and `metric IN ('<a>', '<b>')`. */
function queriedMetrics(sql: string): string[] {
  const out = new Set<string>();
  for (const m of sql.matchAll(/\bmetric\s*=\s*'([^']*)'/g)) out.add(m[1]!);
  for (const m of sql.matchAll(/\bmetric\s+IN\s*\(([^)]*)\)/gi)) {
    for (const lit of m[1]!.matchAll(/'([^']*)'/g)) out.add(lit[1]!);
  }
  return [...out];
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await tsFiles(join(dir, e.name))));
    else if (e.name.endsWith('.ts')) out.push(join(dir, e.name));
  }
  return out;
}

/** The agent's own points: `['edge.<name>', value, unit]` tuples (health-report.ts, video/video-analytics.ts). */
async function edgeMetrics(): Promise<string[]> {
  const out = new Set<string>();
  for (const file of await tsFiles(EDGE_SRC)) {
    for (const m of (await readFile(file, 'utf8')).matchAll(/\[\s*'(edge\.[a-z0-9_]+)'\s*,/g)) out.add(m[1]!);
  }
  return [...out].sort();
}

/** Every telemetry-reading query of every board and alert rule, with the names it compares `metric` with. */
function dashboardQueries(): { where: string; sql: string; metrics: string[] }[] {
  const out: { where: string; sql: string; metrics: string[] }[] = [];
  for (const board of buildBoards()) {
    for (const q of board.queries) {
      const sql = q.query.toSql();
      out.push({ where: `${board.uid} / ${q.panel}`, sql, metrics: queriedMetrics(sql) });
    }
  }
  for (const rule of alertRules) {
    const sql = rule.query.toSql();
    out.push({ where: `alert ${rule.uid}`, sql, metrics: queriedMetrics(sql) });
  }
  return out;
}

t.test('the extractor finds both forms, and nothing else', async (t) => {
  t.same(queriedMetrics("WHERE t.metric = 'wearable.lat' AND max(l.value) FILTER (WHERE l.metric = 'wearable.lon')"), ['wearable.lat', 'wearable.lon']);
  t.same(queriedMetrics("t.metric IN ('edge.fps', 'edge.cpu_percent') AND v.metric = s.metric AND e.kind = 'fire.alarm'"), ['edge.fps', 'edge.cpu_percent']);
});

t.test('every telemetry metric a dashboard or alert rule queries is one something sends', async (t) => {
  const edge = await edgeMetrics();
  t.ok(edge.includes('edge.outbox_depth') && edge.includes('edge.fps'), `the agent's own metrics are found in its source: ${edge.join(', ')}`);
  const sent = new Set([...deviceMetrics((await loadProfiles()).values()), ...edge]);

  const queries = dashboardQueries();
  const reading = queries.filter((q) => /\b(FROM|JOIN)\s+telemetry\b/.test(q.sql));
  t.ok(reading.length >= 10, `${reading.length} queries read telemetry`);
  for (const q of reading) t.ok(q.metrics.length > 0, `${q.where}: names the metrics it reads (a query over every metric would hide a rename)`);

  const queried = new Set<string>();
  for (const q of queries) {
    for (const m of q.metrics) {
      queried.add(m);
      t.ok(sent.has(m), `${q.where}: ${m} is sent by a device profile or the edge agent`);
    }
  }
  for (const m of [...sent].sort()) {
    const reason = NOT_CHARTED[m];
    if (queried.has(m)) t.notOk(reason, `${m} is charted${reason ? ', so it must leave NOT_CHARTED' : ''}`);
    else t.ok(reason, `${m} is sent but on no dashboard${reason ? `: ${reason}` : ' (chart it, or list it in NOT_CHARTED with the reason)'}`);
  }
  for (const m of Object.keys(NOT_CHARTED)) t.ok(sent.has(m), `NOT_CHARTED ${m} is still sent`);
});

t.test('the care kinds the Elderly care board reads are those the edge care monitor raises', async (t) => {
  const src = await readFile(join(EDGE_SRC, 'care', 'tracker.ts'), 'utf8');
  const union = (name: string): string[] => {
    const m = new RegExp(`export type ${name} =([^;]*);`).exec(src);
    return [...(m?.[1] ?? '').matchAll(/'(care\.[a-z_]+)'/g)].map((x) => x[1]!).sort();
  };
  t.same(union('CareAlarmType'), [...CARE_ALARM_KINDS].sort(), 'alarm types');
  t.same(union('CareNoticeKind'), [...CARE_NOTICE_KINDS].sort(), 'notice kinds');
});
