/**
 * The foundation's one real path, every hop real: simulated fire panel (MQTT client) → the edge agent's
 * Aedes broker → fire-panel adapter → canonical fire.alarm → linkage rule → simulated gates hold open,
 * confirmed by read-back → outbox → MQTT.js uplink → cloud broker → ingest → database → the Grafana
 * "Fire events" panel's SQL returns the event. Run against PostgreSQL and against embedded PGlite.
 */
import t, { type Test } from 'tap';
import { expandMacros } from '@safe-community/dashboards';
import { panelSql } from './fixtures/panels.js';
import { freshDatabase, waitFor } from '@safe-community/testkit';
import type { ExecutionReport } from '@safe-community/edge-agent';
import { startSystem, type RunningSystem } from '../demo/system.js';

async function firePath(t: Test, sys: RunningSystem): Promise<void> {
  const reports: ExecutionReport[] = [];
  sys.agent.linkage.onExecution((r) => reports.push(r));
  await waitFor(() => sys.sims.all.every((d) => sys.agent.devices.online(d.id)), { what: 'devices online' });

  const health = await fetch(`${sys.apiUrl}/health`);
  t.equal(health.status, 200, '/health is 200 with every part up');

  const alarmAt = new Date();
  await sys.sims.panels.FP1.raiseAlarm({ zone: 3, loop: 1, detector: 12, type: 'smoke' });

  // The gates act on the linkage command and the engine records their read-back with its latency.
  const report = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire linkage execution' });
  const g1 = report.execution.actions.find((a) => a.device === 'G1');
  t.equal(g1?.action, 'hold_open');
  t.equal(g1?.status, 'confirmed', 'G1 hold_open confirmed by read-back');
  t.type(g1?.confirmedAfterMs, 'number', 'confirmation latency recorded');
  t.ok((g1?.confirmedAfterMs ?? Infinity) < 5000, 'confirmed within the retry budget');
  t.equal(report.execution.actions.find((a) => a.device === 'G2')?.status, 'confirmed', 'the second dialect gate confirmed too');
  t.notOk(report.execution.actions.some((a) => a.device === 'G3'), 'building B2 gate left alone');
  t.equal(sys.sims.gates.G1.state, 'held_open', 'the simulated gate is held open');
  t.equal(sys.sims.gates.G2.state, 'held_open');
  t.equal(sys.sims.gates.G3.state, 'locked');

  // Through the outbox and uplink into the database.
  const rows = await waitFor(async () => {
    const r = await sys.ingest.store.query(`SELECT device, kind, severity, tags->>'building' AS building, payload FROM events WHERE kind = 'fire.alarm'`, []);
    return r.length > 0 ? r : null;
  }, { what: 'fire.alarm row', timeoutMs: 15_000 });
  t.equal(rows.length, 1, 'stored exactly once');
  t.match(rows[0], { device: 'FP1', kind: 'fire.alarm', severity: 'critical', building: 'B1' });
  const linkage = await waitFor(async () => {
    const r = await sys.ingest.store.query(`SELECT rule, status, actions FROM linkage_executions WHERE rule = 'fire-evacuation'`, []);
    return r.length > 0 ? r : null;
  }, { what: 'linkage row' });
  t.equal(linkage[0]?.status, 'confirmed', 'the execution is stored with its status');

  // The Grafana panel's SQL, with its macros expanded as Grafana would, returns the event.
  const sql = expandMacros(panelSql('sc-fire-evacuation', 'Fire events'), {
    from: new Date(alarmAt.getTime() - 60_000),
    to: new Date(Date.now() + 60_000),
    intervalMs: 60_000,
    variables: { site: { all: true }, building: { all: true } },
  });
  const panelRows = await sys.ingest.store.query(sql, []);
  t.ok(panelRows.some((r) => r.panel === 'FP1' && r.kind === 'fire.alarm' && String(r.zone) === '3'), 'the Fire events panel shows the alarm');
}

t.test('fire alarm → gate hold-open → stored → Grafana panel, on embedded PGlite, with the camera', async (t) => {
  const sys = await startSystem({ port: 0, databaseUrl: null, camera: true });
  t.teardown(() => sys.stop());
  await firePath(t, sys);
  // The same fire rule turned the building's ONVIF camera to its preset and took a snapshot, over real SOAP.
  t.equal(sys.cameraRig?.camera.currentPreset, 'preset_gate', 'camera CAM1 moved to its fire preset');
  const fire = await sys.ingest.store.query(`SELECT actions FROM linkage_executions WHERE rule = 'fire-evacuation'`, []);
  const actions = fire[0]?.actions as Array<{ device: string; action: string; status: string }>;
  t.ok(actions.some((a) => a.device === 'CAM1' && a.action === 'snapshot' && a.status === 'confirmed'), 'snapshot confirmed');
  // The camera's analytics on the real video reach the database too (the walkway has people in the first seconds).
  const video = await waitFor(async () => {
    const r = await sys.ingest.store.query(`SELECT kind, payload FROM events WHERE kind LIKE 'video.%'`, []);
    return r.length > 0 ? r : null;
  }, { what: 'a video event stored', timeoutMs: 30_000 });
  t.match(String(video[0]?.payload && (video[0].payload as Record<string, unknown>).snapshot), /^snapshot:CAM1\//, 'video events carry their blurred snapshot ref');
  // The demo's resident presses SOS: the edge's care monitor raises it once, the cloud files it under her.
  await sys.sims.wearable.sos({ lat: 31.2304, lon: 121.4737 });
  const sos = await waitFor(async () => {
    const r = await sys.ingest.store.query(`SELECT a.type, i.group_key FROM alarms a JOIN incidents i ON i.id = a.incident_id WHERE a.device = 'W1'`, []);
    return r.length > 0 ? r : null;
  }, { what: 'the SOS alarm in the cloud', timeoutMs: 15_000 });
  t.same(sos.map((r) => r.type), ['care.sos'], 'one care.sos alarm (the built-in wearable-sos rule yields to the care monitor)');
  t.match(String(sos[0]?.group_key), /^resident:r-101:/, 'its incident is the resident\'s episode');
});

t.test('fire alarm → gate hold-open → stored → Grafana panel, on PostgreSQL', async (t) => {
  const db = await freshDatabase('e2e');
  const sys = await startSystem({ port: 0, databaseUrl: db.url, camera: false });
  t.teardown(async () => {
    await sys.stop();
    await db.drop();
  });
  await firePath(t, sys);
});
