/**
 * The fire-drill dry run: what a fire alarm in a building would actuate, what is missing or offline,
 * and that nothing at all is sent.
 */
import t from 'tap';
import { LinkageEngine, BUILTIN_RULES_FILE, formatDrill } from '../src/linkage/index.js';
import { community, FakeCameras, FakeEvents, MemorySink, silentLog } from './linkage-fakes.js';

t.test('drill for building B lists every actuation, the offline devices and what is missing; sends nothing', async (t) => {
  const devices = community({ G2: { offline: true }, CB2: { offline: true } });
  devices.setState('G1', { door: 'locked' });
  const events = new FakeEvents();
  const sink = new MemorySink();
  const cameras = new FakeCameras();
  const engine = new LinkageEngine({ events, devices, commands: devices, cameras, sink, log: silentLog, ruleFiles: [BUILTIN_RULES_FILE] });
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });

  const report = engine.drill('B', { zone: '3' });
  t.same(report.trigger, [{ kind: 'fire.alarm', device: 'P-B' }], 'simulated from the building\'s own panel');
  t.same(report.rules.map((r) => [r.id, r.runs]), [['fire-evacuation', true]]);
  const acts = report.actions.map((a) => `${a.device}:${a.action}`);
  t.same(acts, ['G1:hold_open', 'G2:hold_open', 'G3:hold_open', 'CB1:hold_raised', 'CB2:hold_raised', 'P-B:alarm fire.alarm (critical)', 'CAM-B:goto_preset fire-B', 'CAM-B:snapshot']);
  t.same(report.offline, ['G2', 'CB2']);
  t.same(report.missing, []);
  t.equal(report.actions.find((a) => a.device === 'G1')?.state, 'door=locked');
  t.match(report.actions.find((a) => a.action.startsWith('alarm'))?.note, /building B, zone 3/);

  // A building with no evacuation gate and no camera: both reported missing.
  const c = engine.drill('C');
  t.same(c.missing.map((m) => m.rule), ['fire-evacuation', 'fire-evacuation']);
  t.match(c.missing[0]?.what, /access_gate building=C role=evacuation_gate: 0 found, 1 expected/);
  t.match(c.missing[1]?.what, /no camera matches camera covers=C/);
  t.equal(c.trigger[0]?.device, 'drill', 'no panel in C: a stand-in trigger');

  t.equal(devices.sent.length, 0, 'nothing was sent to any device');
  t.equal(cameras.calls.length, 0, 'no camera moved');
  t.equal(sink.records.length, 0, 'nothing recorded as if it had happened');
  t.equal(engine.activeHolds().length, 0, 'no latch started');

  const text = formatDrill(report);
  t.match(text, /^Fire drill \(dry run, nothing sent\) for building B: fire\.alarm from P-B/);
  t.match(text, /\nrule\s+action\s+device\s+kind\s+online\s+state\s+note\n/);
  t.match(text, /fire-evacuation\s+hold_open\s+G2\s+access_gate\s+NO/);
  t.match(text, /fire-evacuation\s+hold_raised\s+CB1\s+car_barrier\s+yes/);
  t.match(text, /\noffline: G2, CB2/);
  t.match(text, /\nmissing: none/);
  t.match(formatDrill(c), /missing: \n {2}fire-evacuation: access_gate building=C/);
});

t.test('drill during an active alarm shows the holds already in place', async (t) => {
  const devices = community();
  const events = new FakeEvents();
  const engine = new LinkageEngine({ events, devices, commands: devices, sink: new MemorySink(), log: silentLog, ruleFiles: [BUILTIN_RULES_FILE] });
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });
  events.emit({ id: '6b1d3c1e-6a7f-4a43-9d1b-7f1d2c3b4a5e', site: 's1', edge: 'e1', device: 'P-B', kind: 'fire.alarm', severity: 'critical', edgeTime: new Date().toISOString(), tags: { building: 'B' }, payload: {} });
  await engine.idle();
  const report = engine.drill('B', { site: 's1', kinds: ['fire.alarm', 'fire.reset'] });
  t.equal(report.activeHolds.length, 1);
  t.match(report.actions.find((a) => a.device === 'G1')?.note, /already held \(hold_open\)/);
  t.ok(report.actions.some((a) => a.rule === 'fire-reset-release' && a.action === 'release fire-evacuation'));
  t.match(formatDrill(report), /active holds: fire-evacuation\|s1\|building=B → G1,G2,G3,CB1,CB2/);
});
