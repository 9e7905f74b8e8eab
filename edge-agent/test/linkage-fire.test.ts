/**
 * The built-in fire rule pack against devices with real timers: fan-out, read-back, retries, the
 * linkage.failed alarm, no re-lock while the alarm is active, release on panel reset, and restart
 * during an active alarm.
 */
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { validators } from '@safe-community/contracts';
import { waitFor } from '@safe-community/testkit';
import { LinkageEngine, guardCommands, parseRules, describeExecution, ERR_LINKAGE_HELD, type ExecutionReport } from '../src/linkage/index.js';
import { community, event, FakeCameras, FakeEvents, MemorySink, silentLog, type Behaviour } from './linkage-fakes.js';

async function setup(t: Test, behaviours: Record<string, Behaviour> = {}, extra: { stateFile?: string; rulesYaml?: string } = {}) {
  const devices = community(behaviours);
  const events = new FakeEvents();
  const sink = new MemorySink();
  const cameras = new FakeCameras();
  const dir = await mkdtemp(join(tmpdir(), 'linkage-'));
  const stateFile = extra.stateFile ?? join(dir, 'linkage-state.json');
  const reports: ExecutionReport[] = [];
  const builtin = await readFile(new URL('../rules/builtin.yaml', import.meta.url), 'utf8');
  const rules = [...parseRules(builtin, 'builtin.yaml'), ...(extra.rulesYaml ? parseRules(extra.rulesYaml, 'extra.yaml') : [])];
  const engine = new LinkageEngine({ events, devices, commands: devices, cameras, sink, log: silentLog, stateFile, rules });
  engine.onExecution((r) => reports.push(r));
  await engine.start();
  t.teardown(async () => {
    await engine.stop();
    devices.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { devices, events, sink, cameras, engine, reports, stateFile, dir };
}

const fireB = () => event('fire.alarm', 'P-B', { tags: { building: 'B', zone: '3' }, payload: { zone: 3, type: 'smoke' } });

t.test('fire in B: every evacuation gate in B held open, every exit barrier held raised, all confirmed with timings', async (t) => {
  const { devices, events, sink, cameras, reports } = await setup(t, { G2: { ackAfterMs: 20 }, CB2: { ackAfterMs: 30 } });
  events.emit(fireB());
  // 1. All five commands were handed to the port before the event handler returned: fan-out, not one
  //    by one after each read-back. (How many ms that takes is a benchmark figure, not a test.)
  const onWire = devices.sent.map((s) => `${s.cmd.device}:${s.cmd.action}`).sort();
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire execution' });
  t.same(onWire, ['CB1:hold_raised', 'CB2:hold_raised', 'G1:hold_open', 'G2:hold_open', 'G3:hold_open']);
  t.notOk(devices.sentTo('G4').length || devices.sentTo('GA1').length || devices.sentTo('CB3').length, 'entrance gate, other building, entry barrier untouched');
  // 2. The execution names every action with its timing.
  const ex = fire.execution;
  t.equal(ex.status, 'confirmed');
  t.ok(validators.linkage.check(ex), 'execution matches the contract');
  const cmdActions = ex.actions.filter((a) => a.action.startsWith('hold_'));
  t.equal(cmdActions.length, 5);
  for (const a of cmdActions) {
    t.equal(a.status, 'confirmed', `${a.device} confirmed`);
    t.equal(a.attempts, 1);
    t.ok(a.sentAfterMs >= 0, `${a.device} sent after ${a.sentAfterMs} ms`);
    t.ok(a.confirmedAfterMs !== undefined && a.confirmedAfterMs >= a.sentAfterMs, `${a.device} confirmed after ${a.confirmedAfterMs} ms`);
  }
  const g2 = cmdActions.find((a) => a.device === 'G2');
  t.ok(g2?.confirmedAfterMs !== undefined && g2.confirmedAfterMs >= 15, 'slow gate confirmation reflects its 20 ms ack');
  // 3. Cameras covering B to their preset, then a snapshot; the evidence is recorded.
  t.same(cameras.calls, ['CAM-B:goto:fire-B', 'CAM-B:snapshot']);
  t.equal(fire.snapshots['CAM-B'], 'snapshots/CAM-B/1.jpg');
  t.ok(sink.of('event').some((e) => e.kind === 'linkage.snapshot' && e.payload.ref === 'snapshots/CAM-B/1.jpg'));
  // 4. Audit: one CommandResult per command, the linkage record, the fire alarm; nothing failed.
  const results = sink.of('command_result');
  t.equal(results.length, 5);
  t.ok(results.every((r) => r.status === 'confirmed' && validators.commandResult.check(r)));
  t.equal(sink.of('linkage').length, 1);
  t.ok(sink.of('alarm').some((a) => a.type === 'fire.alarm' && a.severity === 'critical' && a.message.includes('zone 3')));
  t.notOk(sink.of('alarm').some((a) => a.type === 'linkage.failed'));
  const lines = describeExecution(fire, devices);
  t.ok(lines.some((l) => /^fire\.alarm building B zone 3 → access_gate G1 hold-open confirmed in [\d.]+ ms$/.test(l)), lines.join('\n'));
});

t.test('a gate that never confirms is retried, then a critical linkage.failed alarm names it', async (t) => {
  const rulesYaml = '';
  const { devices, events, sink, reports } = await setup(t, { G3: { never: true } }, { rulesYaml });
  events.emit(fireB());
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire execution', timeoutMs: 15_000 });
  const g3 = fire.execution.actions.find((a) => a.device === 'G3');
  t.equal(g3?.status, 'timeout');
  t.equal(g3?.attempts, 4, 'the rule pack allows four attempts');
  t.equal(devices.sentTo('G3').length, 4, 'four publishes to the silent gate');
  t.equal(new Set(devices.sentTo('G3').map((c) => c.id)).size, 1, 'retries resend the same command id, so a late ack still counts');
  t.equal(fire.execution.status, 'partial');
  const failed = sink.of('alarm').filter((a) => a.type === 'linkage.failed');
  t.equal(failed.length, 1);
  t.equal(failed[0]?.device, 'G3');
  t.equal(failed[0]?.severity, 'critical');
  t.match(failed[0]?.message, /G3 hold_open not confirmed \(timeout, 4 attempts/);
  t.ok(sink.of('command_result').some((r) => r.device === 'G3' && r.status === 'timeout' && r.attempts === 4));
});

t.test('a barrier that answers only the second attempt is confirmed on attempt 2; a refusing gate is reported', async (t) => {
  const { events, sink, reports } = await setup(t, { CB1: { ackFromAttempt: 2 }, G1: { reject: true } });
  events.emit(fireB());
  const fire = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire execution', timeoutMs: 10_000 });
  const cb1 = fire.execution.actions.find((a) => a.device === 'CB1');
  t.equal(cb1?.status, 'confirmed');
  t.equal(cb1?.attempts, 2);
  t.ok((cb1?.confirmedAfterMs ?? 0) >= 1500, 'confirmed after the first attempt timed out');
  t.equal(fire.execution.actions.find((a) => a.device === 'G1')?.status, 'rejected');
  t.ok(sink.of('alarm').some((a) => a.type === 'linkage.failed' && a.device === 'G1'));
  t.notOk(sink.of('alarm').some((a) => a.type === 'linkage.failed' && a.device === 'CB1'));
});

t.test('nothing is re-locked while the alarm is active; only the panel reset releases', async (t) => {
  const routine = `
version: 1
rules:
  - id: lock-on-close
    priority: 20
    trigger: { kind: door.closed }
    actions:
      - command: { action: lock, select: { ids: [G1] } }
`;
  const { devices, events, sink, engine, reports, stateFile } = await setup(t, {}, { rulesYaml: routine });
  const alarm = fireB();
  events.emit(alarm);
  await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire execution' });
  t.same(engine.activeHolds().map((l) => Object.keys(l.holds).sort()), [['CB1', 'CB2', 'G1', 'G2', 'G3']]);
  const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { latches: Array<{ triggerEventId: string }> };
  t.equal(saved.latches[0]?.triggerEventId, alarm.id, 'the hold is in the state file');

  // A routine rule tries to lock a held gate: refused and recorded, nothing sent.
  events.emit(event('door.closed', 'G1', { severity: 'info' }));
  const lock = await waitFor(() => reports.find((r) => r.execution.rule === 'lock-on-close'), { what: 'lock execution' });
  t.equal(lock.execution.actions[0]?.status, 'rejected');
  t.match(lock.details[lock.execution.actions[0]?.commandId ?? ''], /held \(hold_open\) by fire-evacuation/);
  t.equal(devices.sentTo('G1').filter((c) => c.action === 'lock').length, 0, 'no lock on the wire');
  t.ok(sink.of('command_result').some((r) => r.device === 'G1' && r.action === 'lock' && r.status === 'rejected'));

  // An operator or the cloud asks through the guarded port: refused with a coded error, recorded.
  const guarded = guardCommands(devices, engine, sink, silentLog);
  const lower = { id: randomUUID(), site: 'site1', edge: 'edge1', device: 'CB1', action: 'lower', params: {}, issuedAt: new Date().toISOString(), issuedBy: 'user:guard1' };
  await t.rejects(guarded.send(lower), { code: ERR_LINKAGE_HELD });
  t.equal(devices.sentTo('CB1').filter((c) => c.action === 'lower').length, 0);
  t.same(engine.check({ device: 'G4', action: 'lock' }), { allowed: true }, 'a gate not held may be locked');

  // fire.restore (detector normal again) does not release.
  events.emit(event('fire.restore', 'P-B', { tags: { building: 'B' }, severity: 'info' }));
  await engine.idle();
  t.equal(engine.activeHolds().length, 1);
  t.equal(devices.sent.filter((s) => s.cmd.action === 'release').length, 0);

  // The panel reset releases every held device and ends the latch.
  events.emit(event('fire.reset', 'P-B', { tags: { building: 'B' }, severity: 'info' }));
  const reset = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-reset-release'), { what: 'reset execution' });
  t.same(reset.execution.actions.filter((a) => a.action === 'release').map((a) => a.device).sort(), ['CB1', 'CB2', 'G1', 'G2', 'G3']);
  t.equal(reset.execution.status, 'confirmed');
  t.equal(engine.activeHolds().length, 0);
  t.same((JSON.parse(await readFile(stateFile, 'utf8')) as { latches: unknown[] }).latches, [], 'state file emptied');
  await guarded.send({ ...lower, id: randomUUID() });
  t.equal(devices.sentTo('CB1').filter((c) => c.action === 'lower').length, 1, 'after reset the barrier may be lowered again');
});

t.test('two buildings in alarm share the exit barriers: resetting A keeps them raised for B', async (t) => {
  const { devices, events, engine, reports } = await setup(t);
  events.emit(event('fire.alarm', 'P-A', { tags: { building: 'A' } }));
  events.emit(fireB());
  await waitFor(() => reports.filter((r) => r.execution.rule === 'fire-evacuation').length === 2, { what: 'both executions' });
  events.emit(event('fire.reset', 'P-A', { tags: { building: 'A' }, severity: 'info' }));
  await waitFor(() => reports.find((r) => r.execution.rule === 'fire-reset-release'), { what: 'reset' });
  const released = devices.sent.filter((s) => s.cmd.action === 'release').map((s) => s.cmd.device);
  t.same(released, ['GA1'], 'only building A gate released; barriers still held for B');
  t.equal(engine.check({ device: 'CB1', action: 'lower' }).allowed, false);
});

t.test('an agent restarted during an active fire alarm re-asserts the holds on start', async (t) => {
  const first = await setup(t);
  const alarm = fireB();
  first.events.emit(alarm);
  await waitFor(() => first.reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire execution' });
  await first.engine.stop();

  // A new agent process: fresh devices (state unknown), same state file.
  const second = await setup(t, {}, { stateFile: first.stateFile });
  const reassert = await waitFor(() => second.reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 're-assert' });
  t.equal(reassert.execution.triggerEventId, alarm.id, 'recorded against the original alarm');
  t.equal(reassert.trigger, undefined);
  t.same(second.devices.sent.map((s) => `${s.cmd.device}:${s.cmd.action}`).sort(), ['CB1:hold_raised', 'CB2:hold_raised', 'G1:hold_open', 'G2:hold_open', 'G3:hold_open']);
  t.equal(reassert.execution.status, 'confirmed');
  t.equal(second.engine.check({ device: 'G2', action: 'lock' }).allowed, false, 'the guard is active again');
  t.equal(second.sink.of('linkage').length, 1);
  t.ok(describeExecution(reassert)[0]?.startsWith('restart: re-assert fire-evacuation'));
});

t.test('SOS raises a critical alarm; door forced raises an alarm and takes a snapshot', async (t) => {
  const { events, sink, cameras, reports } = await setup(t);
  events.emit(event('wearable.sos', 'W1', { severity: 'critical' }));
  events.emit(event('door.forced', 'G4', { severity: 'major' }));
  await waitFor(() => reports.length === 2, { what: 'two executions' });
  const alarms = sink.of('alarm');
  t.ok(alarms.some((a) => a.type === 'wearable.sos' && a.severity === 'critical' && a.device === 'W1' && a.message.includes('building B')));
  t.ok(alarms.some((a) => a.type === 'door.forced' && a.device === 'G4'));
  t.same(cameras.calls, ['CAM-B:snapshot'], 'a snapshot from the camera covering the forced door\'s building, no preset move');
});
