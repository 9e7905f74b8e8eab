/**
 * `npm run bench -- storm [seconds]` (issue 13): while a fire alarm cycle runs every second on an edge agent
 * and eight healthy edges upload normally, a storm is thrown at the system for 30 s: 1,000 bogus CONNECTs,
 * CONNECTs announcing 150 MiB, 100 poison envelopes and an unauthenticated HTTP flood.
 *
 * Three processes: this one runs the edge agent (its fire site: panel, gates, barriers) and measures; the
 * cloud (broker, ingest on PostgreSQL, eight healthy edges) and the attacker run in their own, so the edge's
 * memory growth is its own. Goals on the 2-core machine: connack_p99_ms < 1000 (a provisioned device
 * reconnecting during the storm), linkage_p99_ms < 50 (fire alarm → all commands confirmed), rss_growth_mb
 * < 64 (edge process), other_edges_stalled_s < 5, lost = 0. `npm run bench -- storm 30 calm` runs the same
 * without the attacker, for the machine's own baseline.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rawConnect } from '@safe-community/testkit';
import { FireSite } from './lib/fire-site.js';
import { percentile, round, table } from './lib/stats.js';
import type { CloudFigures } from './lib/storm-cloud.js';

const SECONDS = Number(process.argv[2] ?? 30);
/** `calm`: everything but the attacker, to tell the storm's cost from the machine's own load in the same hour. */
const CALM = process.argv[3] === 'calm';
const lib = (name: string): string => fileURLToPath(new URL(`./lib/${name}.ts`, import.meta.url));

function child(name: string, args: string[] = []): ChildProcess {
  const c = fork(lib(name), args, { execArgv: ['--import', 'tsx'] });
  c.once('exit', (code) => { if (code !== 0) console.error(`${name} exited with ${code}`); });
  return c;
}
const nextMessage = <T>(c: ChildProcess): Promise<T> => new Promise((resolve, reject) => {
  c.once('message', (m) => resolve(m as T));
  c.once('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
});

// The edge under attack: a fire site whose linkage is measured, plus a device that reconnects throughout.
const site = new FireSite({
  gates: 8, barriers: 2, sensors: 0, wearables: 0,
  extraDevices: [
    { id: 'PROBE', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: {} },
    { id: 'FP-LATE', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B9' } },
  ],
});
await site.start();
const port = site.agent.broker.port;
const probePassword = (await site.agent.broker.credentials.provision('PROBE')).password;
const latePassword = (await site.agent.broker.credentials.provision('FP-LATE')).password;
if ((await rawConnect(port, 'PROBE', probePassword)) !== 0) throw new Error('probe device could not connect');

const cloud = child('storm-cloud');
const { mqttUrl, httpPort } = await nextMessage<{ mqttUrl: string; httpPort: number }>(cloud);

// Warm-up, then the baseline memory of the edge process.
for (let i = 0; i < 5; i++) await site.alarm();
await new Promise((r) => setTimeout(r, 2000));
const base = process.memoryUsage();
const rssBase = base.rss;
let rssMax = rssBase;
let heapMax = base.heapUsed + base.arrayBuffers;
const rssTimer = setInterval(() => {
  const m = process.memoryUsage();
  rssMax = Math.max(rssMax, m.rss);
  heapMax = Math.max(heapMax, m.heapUsed + m.arrayBuffers);
}, 100);

const attackDone = CALM
  ? new Promise<{ tally: Record<string, unknown> }>((resolve) => setTimeout(() => resolve({ tally: { calm: true } }), SECONDS * 1000))
  : nextMessage<{ tally: Record<string, unknown> }>(child('storm-attacker', [JSON.stringify({ brokerPort: port, gateId: 'G0', mqttUrl, httpPort, seconds: SECONDS })]));
const t0 = performance.now();
const end = t0 + SECONDS * 1000;

// Fire alarm cycle every second: alarm → every gate and barrier confirmed → reset.
const linkage: number[] = [];
let missed = 0;
const fire = (async () => {
  while (performance.now() < end) {
    const started = performance.now();
    const r = await site.alarm();
    linkage.push(r.confirmMs);
    missed += r.missed;
    await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (performance.now() - started))));
  }
})();

// A provisioned device reconnecting every 250 ms, and once, half-way, a fire panel's first login.
const connack: number[] = [];
let connackFailed = 0;
const probe = (async () => {
  while (performance.now() < end) {
    const c0 = performance.now();
    const code = await rawConnect(port, 'PROBE', probePassword, { timeoutMs: 30_000 });
    if (code === 0) connack.push(performance.now() - c0);
    else connackFailed++;
    await new Promise((res) => setTimeout(res, 250));
  }
})();
let firstLoginMs = NaN;
const late = (async () => {
  await new Promise((res) => setTimeout(res, (SECONDS * 1000) / 2));
  const c0 = performance.now();
  if ((await rawConnect(port, 'FP-LATE', latePassword, { timeoutMs: 30_000 })) === 0) firstLoginMs = performance.now() - c0;
})();

await Promise.all([fire, probe, late]);
const { tally } = await attackDone;
clearInterval(rssTimer);
const rssAfter = process.memoryUsage().rss;
cloud.send({ stop: true });
const { figures } = await nextMessage<{ figures: CloudFigures }>(cloud);
const broker = site.agent.broker.stats();
await site.stop();

const rssGrowth = (rssMax - rssBase) / 1048576;
const heapGrowth = (heapMax - base.heapUsed - base.arrayBuffers) / 1048576;
console.log(`storm${CALM ? ' (calm: no attacker)' : ''}: ${SECONDS} s; fire alarm cycles ${linkage.length} (8 gates + 2 barriers each), 8 healthy edges uploading\n`);
console.log(table(['figure', 'value', 'goal'], [
  ['CONNACK, provisioned device reconnecting, p50 ms', percentile(connack, 50), ''],
  ['CONNACK, provisioned device reconnecting, p99 ms', percentile(connack, 99), '< 1000'],
  ['CONNACK, fire panel first login mid-storm, ms', firstLoginMs, ''],
  ['fire alarm → all confirmed, p50 ms', percentile(linkage, 50), ''],
  ['fire alarm → all confirmed, p99 ms', percentile(linkage, 99), '< 50'],
  ['edge process RSS growth (max during storm), MiB', rssGrowth, '< 64'],
  ['edge process JS heap + buffers growth (max), MiB', heapGrowth, ''],
  ['healthy edges: longest time records waited unstored, s', figures.other_edges_stalled_s, '< 5'],
  ['healthy edges: records lost', figures.lost, '0'],
]));
console.log(`\nattacker: ${JSON.stringify(tally)}`);
console.log(`edge broker refusals: ${JSON.stringify(broker.refused)}; pre-auth: ${JSON.stringify(broker.auth)}`);
console.log(`cloud: appended ${figures.appended}, stored ${figures.stored}, poisoned records ${figures.poisoned}, dead letters ${figures.dead_letters}, audit rows ${figures.audit_rows}, refused before auth ${JSON.stringify(figures.refused_before_auth)}`);
console.log(JSON.stringify({
  bench: 'storm', calm: CALM, seconds: SECONDS, fire_cycles: linkage.length, missed_actions: missed,
  connack_p50_ms: round(percentile(connack, 50), 1), connack_p99_ms: round(percentile(connack, 99), 1), connack_failed: connackFailed,
  first_login_connack_ms: round(firstLoginMs, 1),
  linkage_p50_ms: round(percentile(linkage, 50), 1), linkage_p99_ms: round(percentile(linkage, 99), 1),
  rss_growth_mb: round(rssGrowth, 1), heap_growth_mb: round(heapGrowth, 1), rss_after_growth_mb: round((rssAfter - rssBase) / 1048576, 1),
  other_edges_stalled_s: figures.other_edges_stalled_s, lost: figures.lost,
  pass: percentile(connack, 99) < 1000 && percentile(linkage, 99) < 50 && rssGrowth < 64 && figures.other_edges_stalled_s < 5 && figures.lost === 0,
}));
process.exit(0);
