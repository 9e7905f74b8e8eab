/**
 * Engine behaviour beyond the fire pack: priority pre-emption, debounce and cooldown, conditions, and
 * robustness (malformed events, throwing ports, a failing outbox) on devices with real timers.
 */
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { waitFor } from '@safe-community/testkit';
import { LinkageEngine, parseRules, type ExecutionReport, type LinkageEngineOptions } from '../src/linkage/index.js';
import { community, event, FakeCameras, FakeEvents, MemorySink, silentLog, type Behaviour } from './linkage-fakes.js';

const builtinText = await readFile(new URL('../rules/builtin.yaml', import.meta.url), 'utf8');

async function setup(t: Test, yaml: string, behaviours: Record<string, Behaviour> = {}, opts: Partial<LinkageEngineOptions> = {}) {
  const devices = community(behaviours);
  const events = new FakeEvents();
  const sink = new MemorySink();
  const cameras = new FakeCameras();
  const reports: ExecutionReport[] = [];
  const engine = new LinkageEngine({ events, devices, commands: devices, cameras, sink, log: silentLog, rules: parseRules(yaml, 'test.yaml'), ...opts });
  engine.onExecution((r) => reports.push(r));
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
  });
  return { devices, events, sink, cameras, engine, reports };
}

const routine = (extra = '') => `
version: 1
rules:
  - id: unlock-on-grant
    priority: 10
    trigger: { kind: access.granted }
    scope: [kind]
    actions:
      - command: { action: unlock, select: { ids: [G4] }, retry: { timeoutMs: 300, attempts: 1 } }
${extra}`;

t.test('life safety pre-empts: a fire linkage never waits behind queued routine work', async (t) => {
  // One routine slot, held by a slow device; five routine executions queue up behind it.
  const yaml = `${builtinText}\n${routine().split('rules:')[1]}`;
  const { devices, events, reports } = await setup(t, yaml, { G4: { ackAfterMs: 150 } }, { slots: 1 });
  for (let i = 0; i < 5; i++) events.emit(event('access.granted', 'G4', { severity: 'info', payload: { n: i } }));
  events.emit(event('fire.alarm', 'P-B', { tags: { building: 'B' } }));
  // The fire commands went out synchronously, before even the first routine unlock was dispatched.
  const first = devices.sent.slice(0, 5).map((s) => s.cmd.action);
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire' });
  t.same([...new Set(first)].sort(), ['hold_open', 'hold_raised'], 'the first five commands on the wire are the fire holds');
  t.equal(fire.execution.status, 'confirmed');
  await waitFor(() => reports.filter((r) => r.execution.rule === 'unlock-on-grant').length === 5, { what: 'routine drained', timeoutMs: 5000 });
  const unlockSends = devices.sentTo('G4').map((c) => c.action);
  t.same(unlockSends, ['unlock', 'unlock', 'unlock', 'unlock', 'unlock'], 'routine work still all done, one at a time');
});

t.test('triggers arriving together run by priority, not arrival', async (t) => {
  const yaml = `
version: 1
rules:
  - id: low
    priority: 5
    trigger: { kind: test.low }
    actions: [{ command: { action: ping, select: { ids: [G4] } } }]
  - id: mid
    priority: 50
    trigger: { kind: test.mid }
    actions: [{ command: { action: ping, select: { ids: [CB3] } } }]
`;
  const { devices, events, reports } = await setup(t, yaml, {}, { slots: 1 });
  events.emit(event('test.low', 'X1', { severity: 'info' }));
  events.emit(event('test.mid', 'X1', { severity: 'info' }));
  await waitFor(() => reports.length === 2, { what: 'both' });
  t.same(devices.sent.map((s) => s.cmd.device), ['CB3', 'G4'], 'the priority-50 rule went first');
});

t.test('a fire hold supersedes a routine command still retrying on the same gate', async (t) => {
  const yaml = `${builtinText}
  - id: routine-unlock-g1
    priority: 10
    trigger: { kind: access.granted }
    actions:
      - command: { action: unlock, select: { ids: [G1] }, retry: { timeoutMs: 2000, attempts: 5 } }
`;
  const { devices, events, sink, reports } = await setup(t, yaml, { G1: { never: true } });
  events.emit(event('access.granted', 'G1', { severity: 'info' }));
  await waitFor(() => devices.sentTo('G1').length === 1, { what: 'unlock sent' });
  devices.behave('G1', {});
  events.emit(event('fire.alarm', 'P-B', { tags: { building: 'B' } }));
  const unlock = await waitFor(() => reports.find((r) => r.execution.rule === 'routine-unlock-g1'), { what: 'routine finished', timeoutMs: 3000 });
  t.equal(unlock.execution.actions[0]?.status, 'failed');
  t.match(unlock.details[unlock.execution.actions[0]?.commandId ?? ''], /superseded by rule fire-evacuation/);
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire' });
  t.equal(fire.execution.actions.find((a) => a.device === 'G1')?.status, 'confirmed');
  t.notOk(sink.of('alarm').some((a) => a.type === 'linkage.failed'), 'a superseded action is not a device failure');
  t.ok(sink.of('command_result').some((r) => r.action === 'unlock' && r.status === 'failed' && /superseded/.test(r.detail ?? '')), 'but it is recorded');
});

t.test('stop() ends retries in progress promptly and still records them', async (t) => {
  const yaml = `
version: 1
rules:
  - id: slow
    priority: 40
    trigger: { kind: test.open }
    actions: [{ command: { action: open, select: { ids: [G4] }, retry: { timeoutMs: 5000, attempts: 5 } } }]
`;
  const { devices, events, sink, engine } = await setup(t, yaml, { G4: { never: true } });
  events.emit(event('test.open', 'X', { severity: 'info' }));
  await waitFor(() => devices.sentTo('G4').length === 1, { what: 'sent' });
  const t0 = Date.now();
  await engine.stop();
  t.ok(Date.now() - t0 < 4000, 'stop did not wait out the 5 s read-back timeout');
  t.equal(sink.of('linkage')[0]?.actions[0]?.status, 'failed');
  t.match(sink.of('command_result')[0]?.detail, /linkage engine stopped/);
  t.notOk(sink.of('alarm').length, 'no device alarm for our own shutdown');
  events.emit(event('test.open', 'X', { severity: 'info' }));
  t.equal(devices.sent.length, 1, 'a stopped engine takes no events');
  t.equal(events.count, 0, 'and has unsubscribed');
});

t.test('debounce drops a chattering trigger until it has been quiet; cooldown spaces executions', async (t) => {
  const yaml = `
version: 1
rules:
  - id: bounce
    priority: 30
    trigger: { kind: door.held_open }
    debounceMs: 150
    actions: [{ alarm: { type: door.held_open, severity: minor, message: 'held {device}' } }]
  - id: cool
    priority: 30
    trigger: { kind: env.water_leak }
    cooldownMs: 300
    actions: [{ alarm: { type: env.water_leak, severity: major, message: 'leak {device}' } }]
`;
  // The throttle reads the injected clock; moving it by hand keeps the test exact on a busy machine.
  let now = Date.parse('2026-11-25T10:00:00Z');
  const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const { events, engine, reports } = await setup(t, yaml, {}, { clock });
  const sleep = async (ms: number) => {
    now += ms;
    await engine.idle();
  };
  // Debounce: repeats every 50 ms keep sliding the window: only the first acts.
  for (let i = 0; i < 6; i++) {
    events.emit(event('door.held_open', 'G4', { severity: 'minor' }));
    await sleep(50);
  }
  await engine.idle();
  t.equal(reports.filter((r) => r.execution.rule === 'bounce').length, 1);
  await sleep(200);
  events.emit(event('door.held_open', 'G4', { severity: 'minor' }));
  await engine.idle();
  t.equal(reports.filter((r) => r.execution.rule === 'bounce').length, 2, 'acts again after a quiet period');
  t.equal(engine.stats().debounced, 5);
  // Cooldown: fixed from the last execution, however the triggers are spaced.
  events.emit(event('env.water_leak', 'S1', { severity: 'major' }));
  await sleep(120);
  events.emit(event('env.water_leak', 'S1', { severity: 'major' }));
  await sleep(120);
  events.emit(event('env.water_leak', 'S1', { severity: 'major' }));
  await engine.idle();
  t.equal(reports.filter((r) => r.execution.rule === 'cool').length, 1, 'within 300 ms of the execution');
  await sleep(150);
  events.emit(event('env.water_leak', 'S1', { severity: 'major' }));
  await engine.idle();
  t.equal(reports.filter((r) => r.execution.rule === 'cool').length, 2, 'after the cooldown');
  t.equal(engine.stats().cooling, 2);
  // Another device is its own scope.
  events.emit(event('env.water_leak', 'S2', { severity: 'major' }));
  await engine.idle();
  t.equal(reports.filter((r) => r.execution.rule === 'cool').length, 3);
});

t.test('conditions: time windows and device state', async (t) => {
  const fixed = Date.parse('2026-11-25T23:30:00Z'); // a Wednesday, 23:30 UTC
  const clock = { now: () => fixed, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const yaml = `
version: 1
rules:
  - id: night
    priority: 30
    trigger: { kind: access.denied }
    conditions: { timeWindows: [{ from: "22:00", to: "06:00", days: [wed] }] }
    actions: [{ notice: { text: 'night denial at {device}' } }]
  - id: day
    priority: 30
    trigger: { kind: access.denied }
    conditions: { timeWindows: [{ from: "08:00", to: "18:00" }] }
    actions: [{ notice: { text: day denial } }]
  - id: only-if-locked
    priority: 30
    trigger: { kind: access.denied }
    conditions: { state: [{ device: $trigger.device, field: door, equals: locked }] }
    actions: [{ notice: { text: denied while locked } }]
`;
  const { devices, events, engine } = await setup(t, yaml, {}, { clock, timeZone: 'UTC' });
  const notices: string[] = [];
  engine.onNotice((text) => notices.push(text));
  devices.setState('G4', { door: 'open' });
  events.emit(event('access.denied', 'G4', { severity: 'minor' }));
  await engine.idle();
  t.same(notices, ['night denial at G4']);
  devices.setState('G4', { door: 'locked' });
  events.emit(event('access.denied', 'G1', { severity: 'minor' }));
  events.emit(event('access.denied', 'G4', { severity: 'minor' }));
  await engine.idle();
  t.same(notices.sort(), ['denied while locked', 'night denial at G1', 'night denial at G4', 'night denial at G4']);
  t.equal(engine.stats().conditionsFalse, 5, 'day rule three times, locked check twice');
});

t.test('malformed events, throwing ports and a failing outbox never stop the engine', async (t) => {
  const { devices, events, sink, cameras, engine, reports } = await setup(t, builtinText, { CB2: { sendFailures: 1 } });
  for (const bad of [null, undefined, 42, 'fire', {}, { kind: 'fire.alarm' }, { ...event('fire.alarm', 'P-B'), kind: 'FIRE!!' }, { ...event('fire.alarm', 'P-B'), extra: 1 }, []]) {
    events.emit(bad);
  }
  t.equal(engine.stats().malformed, 9);
  t.equal(devices.sent.length, 0, 'nothing actuated for malformed input');
  // A camera that throws, a broker that refuses the first publish, an outbox that fails twice.
  cameras.failing.add('CAM-B');
  sink.failNext = 2;
  events.emit(event('fire.alarm', 'P-B', { tags: { building: 'B' } }));
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire', timeoutMs: 10_000 });
  const cb2 = fire.execution.actions.find((a) => a.device === 'CB2');
  t.equal(cb2?.status, 'confirmed', 'a refused publish is retried');
  t.equal(cb2?.attempts, 2);
  t.same(fire.execution.actions.filter((a) => a.device === 'CAM-B').map((a) => `${a.action}:${a.status}:${a.attempts}`), ['goto_preset:failed:2', 'snapshot:failed:2']);
  t.equal(fire.execution.status, 'partial');
  t.ok(sink.of('alarm').some((a) => a.type === 'linkage.failed' && a.device === 'CAM-B'), 'the camera failure is an alarm too');
  t.equal(engine.stats().sinkErrors, 2);
  // A listener that throws does not break the next execution.
  engine.onExecution(() => {
    throw new Error('listener bug');
  });
  events.emit(event('wearable.sos', 'W1'));
  await waitFor(() => reports.find((r) => r.execution.rule === 'wearable-sos'), { what: 'sos after all that' });
  t.ok(engine.stats().errors >= 1);
});

t.test('a read-back without a command id confirms by device', async (t) => {
  const yaml = `
version: 1
rules:
  - id: open-g4
    priority: 40
    trigger: { kind: test.open }
    actions: [{ command: { action: open, select: { ids: [G4] }, retry: { timeoutMs: 2000, attempts: 1 } } }]
`;
  const { devices, events, reports } = await setup(t, yaml, { G4: { never: true } });
  events.emit(event('test.open', 'X', { severity: 'info' }));
  await waitFor(() => devices.sentTo('G4').length === 1, { what: 'sent' });
  devices.readBack({ commandId: '', device: 'G4', ok: true, detail: 'door=open' });
  const r = await waitFor(() => reports[0], { what: 'execution' });
  t.equal(r.execution.actions[0]?.status, 'confirmed');
});

t.test('trigger filters: kind prefix, tags from the event and its device, payload zone, severity floor', async (t) => {
  const yaml = `
version: 1
rules:
  - id: zone-filter
    priority: 50
    trigger: { kind: "fire.*", where: { building: B, zone: ["3", "4"] }, minSeverity: major }
    scope: [kind]
    actions: [{ notice: { text: '{kind} in {building} zone {zone}' } }]
`;
  const { events, engine } = await setup(t, yaml);
  const notices: string[] = [];
  engine.onNotice((text) => notices.push(text));
  events.emit(event('fire.alarm', 'P-B', { payload: { zone: 3 } })); // building from the panel's tags, zone from the payload
  events.emit(event('fire.fault', 'P-B', { tags: { zone: '4' } }));
  events.emit(event('fire.alarm', 'P-B', { payload: { zone: 5 } })); // other zone
  events.emit(event('fire.alarm', 'P-A', { payload: { zone: 3 } })); // other building
  events.emit(event('fire.alarm', 'P-B', { payload: { zone: 3 }, severity: 'minor' })); // below the floor
  events.emit(event('firework.alarm', 'P-B', { payload: { zone: 3 } })); // not the prefix
  await engine.idle();
  t.same(notices.sort(), ['fire.alarm in B zone 3', 'fire.fault in B zone 4']);
});

t.test('a camera action with clip: true asks the evidence recorder for a clip of each selected camera', async (t) => {
  const yaml = `
version: 1
rules:
  - id: door-clip
    priority: 50
    trigger: { kind: door.held }
    actions:
      - camera: { select: { kind: camera, tags: { covers: $trigger.building } }, clip: true }
`;
  const { events, sink, cameras, reports } = await setup(t, yaml);
  const trigger = event('door.held', 'G-A1', { tags: { building: 'A' }, severity: 'minor' });
  events.emit(trigger);
  await waitFor(() => reports.find((r) => r.execution.rule === 'door-clip'), { what: 'rule ran' });
  const asked = sink.of('event').filter((e) => e.kind === 'linkage.clip');
  t.same(asked.map((e) => e.device), ['CAM-A'], 'one request, for the camera covering building A');
  t.match(asked[0], { severity: 'minor', payload: { rule: 'door-clip', triggerEventId: trigger.id, triggerKind: 'door.held', triggerAt: trigger.edgeTime } });
  t.same(cameras.calls, [], 'no preset or snapshot was asked for');
});
