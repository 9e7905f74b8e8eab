/**
 * The agent wires elderly care when a residents file is configured: an SOS from an enrolled resident's
 * wearable becomes one care.sos alarm in the outbox (the built-in wearable-sos rule yields to the care
 * monitor), while a wearable nobody is enrolled with still gets the built-in wearable.sos alarm.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEDIA_DIR, startParts, tempDir, waitFor } from '@safe-community/testkit';
import { SimulatedWearable } from '@safe-community/simulators';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';
import { deviceLogin, startAgent } from './agent-rig.js';

const EXAMPLE_RESIDENTS = fileURLToPath(new URL('../src/care/residents.example.yaml', import.meta.url));
const wearableDevice = (id: string) => ({ id, kind: 'wearable' as const, profile: 'wearable.carelink-json', tags: { building: 'B' } });

t.test('care monitor runs inside the agent', async (t) => {
  const agent = await startAgent(t, {
    edge: { id: 'hub-care', site: 'site-c' },
    care: { residentsFile: EXAMPLE_RESIDENTS },
    devices: [wearableDevice('W-1702'), wearableDevice('W-9000')],
  }, { logLevel: 'error' });
  const [enrolled, spare] = await startParts(t,
    new SimulatedWearable(await deviceLogin(agent, 'W-1702')),
    new SimulatedWearable(await deviceLogin(agent, 'W-9000')));
  t.ok(agent.care, 'care part started');
  t.ok(agent.care!.stats().residents >= 1, 'residents loaded');
  await enrolled.sos({ lat: 31.2304, lon: 121.4737 });
  const alarm = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    return records.filter((r) => r.type === 'alarm').map((r) => JSON.parse(r.json) as { data: { type?: string; tags?: Record<string, string> } })
      .find((r) => r.data.type === 'care.sos');
  }, { what: 'care.sos alarm in the outbox' });
  t.equal(alarm.data.tags?.resident, 'R-1702', 'the alarm names the resident');

  await spare.sos({ lat: 31.2304, lon: 121.4737 });
  const alarms = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    const all = records.filter((r) => r.type === 'alarm').map((r) => JSON.parse(r.json) as { data: { type: string; device: string } }).map((r) => r.data);
    return all.some((a) => a.device === 'W-9000') ? all : null;
  }, { what: 'the unenrolled wearable\'s alarm' });
  t.same(alarms.filter((a) => a.device === 'W-1702' && a.type.endsWith('.sos')).map((a) => a.type), ['care.sos'], 'one alarm for the enrolled resident: no wearable.sos beside care.sos');
  t.same(alarms.filter((a) => a.device === 'W-9000').map((a) => a.type), ['wearable.sos'], 'a wearable without a resident keeps the built-in SOS rule');
});

t.test('consent is applied at the edge: a resident\'s unconsented measurements are never stored or sent', async (t) => {
  const dir = await tempDir(t, 'agent-consent-');
  const residentsFile = join(dir, 'residents.json');
  const resident = (id: string, wearable: string, scope: string[]) => ({
    id, name: `Resident ${id}`, wearable, building: 'B',
    consent: { givenAt: '2026-11-01T10:00:00+08:00', givenBy: `Resident ${id}`, scope },
    contacts: [{ name: 'Guard team B', role: 'guard_team', team: 'guards-b' }],
    geofence: { polygon: [{ lat: 31.22, lon: 121.46 }, { lat: 31.22, lon: 121.48 }, { lat: 31.24, lon: 121.48 }, { lat: 31.24, lon: 121.46 }] },
    quietHours: { start: '22:00', end: '07:00' },
  });
  await writeFile(residentsFile, JSON.stringify({ version: 1, timeZone: 'Asia/Shanghai', residents: [
    resident('R-ALL', 'W-8001', ['alerts', 'location', 'vitals', 'activity']),
    resident('R-ALERTS', 'W-8002', ['alerts']),
  ] }));
  const agent = await startAgent(t, {
    edge: { id: 'hub-consent', site: 'site-c' },
    care: { residentsFile },
    devices: ['W-8001', 'W-8002', 'W-8003'].map(wearableDevice),
  }, { logLevel: 'error' });
  const bands = await startParts(t, ...await Promise.all(['W-8001', 'W-8002', 'W-8003'].map(async (id) => new SimulatedWearable(await deviceLogin(agent, id)))));
  for (const b of bands) await b.vitals({ hr: 72, spo2: 97, steps: 1200, bat: 80, lat: 31.23, lon: 121.47 });
  const sent = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    const points = records.filter((r) => r.type === 'telemetry').map((r) => JSON.parse(r.json) as { data: { device: string; metric: string } });
    return points.length >= 6 + 1 + 6 ? points : null;
  }, { what: 'the three bands\' telemetry in the outbox' });
  const of = (device: string) => sent.filter((p) => p.data.device === device).map((p) => p.data.metric.replace('wearable.', '')).sort();
  t.same(of('W-8001'), ['battery', 'heart_rate', 'lat', 'lon', 'spo2', 'steps'], 'full consent: everything');
  t.same(of('W-8002'), ['battery'], 'alerts only: no position, vitals or steps leave the box; the battery does');
  t.same(of('W-8003'), ['battery', 'heart_rate', 'lat', 'lon', 'spo2', 'steps'], 'a wearable nobody is enrolled with is not filtered');
  t.equal(agent.devices.withheld, 5, 'the five withheld points are counted');
  const metrics = await agent.metrics.registry.metrics();
  t.match(metrics, /^edge_telemetry_withheld_total(\{[^}]*\})? 5$/m, 'and exported for Prometheus');
  t.match(metrics, /^edge_care_residents(\{[^}]*\})? 2$/m);
});

t.test('an enrolled resident\'s SOS during start-up is the care monitor\'s: care.sos, no wearable.sos', async (t) => {
  const dir = await tempDir(t, 'agent-care-start-');
  const config = loadEdgeConfig({
    edge: { id: 'hub-care', site: 'site-c' }, dataDir: dir, broker: { port: 0 }, admin: { enabled: false },
    care: { residentsFile: EXAMPLE_RESIDENTS },
    devices: [wearableDevice('W-1702')],
    // The video part loads its detector after the broker and the linkage are up: start-up lasts seconds.
    cameras: [{ id: 'CAM-V', stream: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), loop: true, tags: {}, analytics: { fps: 1 } }],
  });
  // Credentials made by a first run, so the band can connect as soon as the broker listens.
  const first = new EdgeAgent({ config: { ...config, cameras: [] }, logger: createLogger({ level: 'error' }) });
  await first.start();
  const { password } = await first.broker.credentials.provision('W-1702');
  await first.stop();

  const agent = new EdgeAgent({ config, logger: createLogger({ level: 'error' }) });
  let started = false;
  const starting = agent.start().then(() => { started = true; });
  t.teardown(async () => {
    await starting.catch(() => {});
    await agent.stop();
  });
  await waitFor(() => (agent.broker?.port ?? 0) > 0, { what: 'broker listening', intervalMs: 5 });
  const band = new SimulatedWearable({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'W-1702', password });
  await band.start();
  t.teardown(() => band.stop());
  await band.sos({ lat: 31.2304, lon: 121.4737 });
  t.notOk(started, 'the SOS went in while the agent was still starting');
  await starting;
  const sos = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    const alarms = records.filter((r) => r.type === 'alarm').map((r) => (JSON.parse(r.json) as { data: { type: string; device: string } }).data);
    return alarms.some((a) => a.type === 'care.sos') ? alarms : null;
  }, { what: 'care.sos alarm' });
  await agent.linkage.idle();
  t.same(sos.filter((a) => a.device === 'W-1702' && a.type.endsWith('.sos')).map((a) => a.type), ['care.sos'], 'one alarm, raised by the care monitor');
});
