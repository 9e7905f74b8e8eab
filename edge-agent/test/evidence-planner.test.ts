/**
 * Issue 16, item 2: which events and alarms get clips, from which cameras, and how repeats fold into one
 * clip instead of a pile of near-identical ones.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { EvidencePlanner, loadEdgeConfig, type TriggerPolicy } from '@safe-community/edge-agent';
import type { Event, Severity } from '@safe-community/contracts';

const policy: TriggerPolicy = { kinds: ['fire.*', 'door.forced', 'video.zone_intrusion', 'wearable.sos'], minSeverity: 'major', ignore: ['linkage.*', 'camera.*', 'evidence.*'] };
const devices: Record<string, Record<string, string>> = {
  FP1: { building: 'B1' }, G1: { building: 'B1', zone: 'lobby' }, G9: { building: 'B9' }, W1: { building: 'B2' }, S1: { building: 'B1' },
};
const planner = () => new EvidencePlanner({
  cameras: [{ id: 'CAM-B1', tags: { covers: 'B1' } }, { id: 'CAM-LOBBY', tags: { covers: 'lobby, courtyard' } }, { id: 'CAM-B2', tags: { covers: 'B2' } }],
  tagsOf: (d) => devices[d], triggers: policy, preMs: 10_000, postMs: 20_000,
});
const T0 = Date.parse('2026-12-03T10:00:00.000Z');
function event(kind: string, device: string, severity: Severity = 'major', atMs = T0): { type: 'event'; data: Event } {
  return { type: 'event', data: { id: randomUUID(), site: 's', edge: 'e', device, kind, severity, edgeTime: new Date(atMs).toISOString(), payload: {} } };
}

t.test('kinds, severities and the system\'s own alarms', async (t) => {
  const p = planner();
  t.equal(p.observe(event('fire.alarm', 'FP1', 'critical')).length, 1, 'a fire alarm');
  t.equal(p.observe(event('door.opened', 'S1', 'info')).length, 0, 'a door opened normally: no clip');
  t.equal(p.observe(event('env.smoke_level', 'S1', 'critical')).length, 1, 'anything critical');
  t.equal(p.observe(event('linkage.failed', 'G1', 'critical')).length, 0, 'the system\'s own alarms never');
  t.equal(p.observe({ type: 'telemetry', data: {} } as never).length, 0, 'telemetry never');
});

t.test('the cameras covering the trigger\'s building or zone, and a camera\'s own events', async (t) => {
  const p = planner();
  t.same(p.observe(event('door.forced', 'G1')).map((c) => c.plan.camera).sort(), ['CAM-B1', 'CAM-LOBBY'], 'building B1 and zone lobby');
  t.same(p.observe(event('wearable.sos', 'W1', 'critical')).map((c) => c.plan.camera), ['CAM-B2'], 'care SOS where a camera covers the place');
  t.same(p.observe(event('door.forced', 'G9')).length, 0, 'no camera covers B9: no clip');
  t.same(p.observe(event('video.zone_intrusion', 'CAM-B2')).map((c) => c.plan.camera), ['CAM-B2'], 'a video rule event: its own camera');
  const [c] = p.observe(event('fire.alarm', 'FP1', 'critical'));
  t.match(c!.plan, { fromMs: T0 - 10_000, toMs: T0 + 20_000 }, 'pre and post around the trigger');
});

t.test('an alarm for an event adds nothing; repeats fold into the open clip; other triggers get their own', async (t) => {
  const p = planner();
  const e = event('door.forced', 'G1', 'major');
  const [first] = p.observe(e).filter((c) => c.plan.camera === 'CAM-B1');
  const alarm = { type: 'alarm' as const, data: { id: randomUUID(), site: 's', device: 'G1', type: 'door.forced', severity: 'critical' as const, state: 'open' as const, raisedAt: new Date(T0 + 5).toISOString(), count: 1, message: 'm', sourceEventId: e.data.id } };
  const fromAlarm = p.observe(alarm).filter((c) => c.plan.camera === 'CAM-B1');
  t.same(fromAlarm.map((c) => c.type), ['extended'], 'the linkage alarm for that event makes no new clip');
  t.equal(fromAlarm[0]!.plan.trigger.severity, 'critical', 'it raises the clip\'s severity (drop order)');

  const repeat = p.observe(event('door.forced', 'G1', 'major', T0 + 15_000)).filter((c) => c.plan.camera === 'CAM-B1');
  t.same(repeat.map((c) => c.type), ['extended'], 'the same door forced again while recording folds in');
  t.equal(repeat[0]!.plan.clip, first!.plan.clip);
  t.equal(repeat[0]!.plan.toMs, T0 + 35_000, 'and the clip reaches its post-roll');
  const other = p.observe(event('fire.alarm', 'FP1', 'critical', T0 + 16_000)).filter((c) => c.plan.camera === 'CAM-B1');
  t.same(other.map((c) => c.type), ['new'], 'a fire alarm in the same window has its own clip');
  t.equal(p.holdFrom('CAM-B1'), T0 - 10_000, 'the ring holds from the earliest open clip');
  p.close(first!.plan.clip);
  t.same(p.observe(event('door.forced', 'G1', 'major', T0 + 40_000)).filter((c) => c.plan.camera === 'CAM-B1').map((c) => c.type), ['new'], 'after the clip is cut a repeat starts a new one');
});

t.test('evidence config: defaults, and errors that name the key', async (t) => {
  const cam = { id: 'C1', stream: 'rtsp://127.0.0.1/x' };
  const cfg = loadEdgeConfig({ cameras: [cam] });
  t.match(cfg.evidence, { enabled: true, preSec: 10, postSec: 20, ringSeconds: 60, segmentSec: 2, keepOriginalDays: 7, sendUnblurred: false });
  t.throws(() => loadEdgeConfig({ cameras: [cam], evidence: { preSec: 60, ringSeconds: 60 } }), { code: 'ERR_CONFIG', message: /evidence\.ringSeconds \(60\) must be at least preSec \+ 2 × segmentSec \(64\)/ });
  t.throws(() => loadEdgeConfig({ cameras: [cam], evidence: { keepOriginal: 3 } }), { message: /unknown key evidence\.keepOriginal/ }, 'unknown keys are refused, by path');
  t.throws(() => loadEdgeConfig({ cameras: [{ ...cam, evidence: { profile: '' } }] }), { message: /cameras\.0\.evidence\.profile/ });
  t.throws(() => loadEdgeConfig({ evidence: { triggers: { minSeverity: 'minor' } } }), { message: /evidence\.triggers\.minSeverity/ });
});

t.test('a linkage rule\'s clip request makes a clip of its camera, once per trigger', async (t) => {
  const p = planner();
  const trigger = event('vehicle.arrived', 'BR9', 'info');
  t.same(p.observe(trigger), [], 'an info event of an unlisted kind makes no clip by itself');
  const ask = (camera: string) => ({ type: 'event' as const, data: { ...event('linkage.clip', camera, 'info', T0 + 30).data,
    payload: { rule: 'plates', triggerEventId: trigger.data.id, triggerKind: 'vehicle.arrived', triggerAt: trigger.data.edgeTime } } });
  const [c] = p.observe(ask('CAM-B2'));
  t.match(c, { type: 'new', plan: { camera: 'CAM-B2', fromMs: T0 - 10_000, trigger: { id: trigger.data.id, kind: 'vehicle.arrived' } } }, 'the asked camera, around the trigger\'s time');
  t.same(p.observe(ask('CAM-B2')), [], 'asked again: the same clip');
  t.same(p.observe(ask('CAM-NONE')), [], 'a camera that is not recorded: nothing');
});
