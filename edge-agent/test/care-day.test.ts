import t from 'tap';
import { validators } from '@safe-community/contracts';
import { DAY_START, dayScript, runDay } from '@safe-community/simulators';
import { alarmSummary, careRig } from './care-rig.js';

const EXPECTED = [
  'R1:care.battery_low', 'R1:care.sos', 'R2:care.fall', 'R2:care.sos', 'R3:care.vitals', 'R3:care.wandering', 'R4:care.inactivity', 'R5:care.device_silent',
];
const at = (h: number, m: number, s = 0): string => new Date(DAY_START + ((h * 60 + m) * 60 + s) * 1000).toISOString();

let fullDayIds: string[] = [];

t.test('the simulated day through broker, gateway and monitor raises exactly the expected alarms', async (t) => {
  const rig = await careRig();
  t.teardown(() => rig.close());
  const { published } = await runDay({ clock: rig.clock, wearables: rig.wearables, steps: dayScript(), settle: () => rig.monitor.idle() });
  t.ok(published > 600, `${published} vendor payloads published`);
  const alarms = rig.sink.alarms();
  t.same(alarmSummary(alarms), EXPECTED, 'count, type and resident');
  t.equal(new Set(alarms.map((a) => a.id)).size, alarms.length, 'no duplicate ids');
  for (const a of alarms) t.ok(validators.alarm.check(a), `${a.type} is a valid Alarm`);
  fullDayIds = alarms.map((a) => a.id).sort();

  const by = (type: string, resident?: string) => alarms.find((a) => a.type === type && (!resident || a.tags?.resident === resident))!;
  t.equal(by('care.sos', 'R1').raisedAt, at(9, 30), 'SOS at once (the second press 20 s later is the same call)');
  t.equal(by('care.sos', 'R1').severity, 'critical');
  t.equal(by('care.sos', 'R2').raisedAt, at(14, 3), 'the anxin band\'s SOS');
  t.equal(by('care.sos', 'R2').tags?.episode, by('care.fall').tags?.episode, 'the SOS two minutes after the fall is the same episode');
  t.not(by('care.sos', 'R1').tags?.episode, by('care.fall').tags?.episode);
  t.equal(by('care.fall').raisedAt, at(14, 1), 'fall alarm when the I\'m OK window ends');
  t.equal(by('care.wandering').raisedAt, at(2, 13), 'left home at night');
  t.equal(by('care.wandering').tags?.reason, 'night_exit');
  t.equal(by('care.vitals').raisedAt, at(11, 13), 'heart rate high for the minimum duration');
  t.equal(by('care.vitals').tags?.reason, 'heart_rate_high');
  t.equal(by('care.inactivity').raisedAt, at(15, 54), 'three daytime hours after the last steps at 12:54');
  t.equal(by('care.device_silent').raisedAt, at(15, 35), 'three missed heartbeats after 15:05');
  t.equal(by('care.battery_low').raisedAt, at(15, 41));
  for (const a of alarms) {
    t.equal(a.tags?.building, 'B', `${a.type} tagged with the building`);
    t.equal(a.device, `W-10${a.tags?.resident?.slice(1)}`, `${a.type} names the wearable`);
  }
  t.equal(by('care.battery_low').tags?.category, 'maintenance');
  t.equal(by('care.device_silent').tags?.episode, undefined, 'maintenance alarms open no episode');
  t.match(by('care.fall').tags, { category: 'safety', episode: /^R2-/, episode_start: at(14, 1) });

  // The companion event holds what the cloud needs to fuse and dispatch: positions and episode.
  const events = rig.sink.events();
  const wander = events.find((e) => e.id === by('care.wandering').sourceEventId);
  t.ok(wander, 'the wandering alarm points at its event');
  const positions = wander?.payload.positions as Array<{ inside: boolean; lat: number }>;
  t.equal(positions.at(-1)?.inside, false, 'last position is outside the geofence');
  t.ok(positions.length >= 2, 'with the positions before it');
  t.equal(by('care.wandering').tags?.last_lat, positions.at(-1)?.lat.toFixed(6));

  const notices = events.filter((e) => e.severity === 'info').map((e) => `${e.tags?.resident}:${e.kind}`).sort();
  t.same(notices, ['R1:care.fall_cancelled', 'R2:care.fall_cancelled', 'R3:care.vitals_cleared', 'R3:care.wandering_ended'],
    'both I\'m OK presses cancel their falls (one per dialect); the excursion clears once; the night ends once');
  t.same(rig.monitor.stats(), { residents: 5, alarms: 8, notices: 4, ignored: 0, sinkRetries: 0, sinkErrors: 0 });
});

t.test('restarts mid-day (inside a wandering episode, a pending vitals excursion and a fall window) neither lose nor double', async (t) => {
  const rig = await careRig();
  t.teardown(() => rig.close());
  const steps = dayScript();
  const settle = () => rig.monitor.idle();
  const cuts = [2 * 60 + 25, 11 * 60 + 8, 14 * 60 + 0.5, 24 * 60].map((m) => m * 60_000);
  let from = 0;
  for (const until of cuts) {
    await runDay({ clock: rig.clock, wearables: rig.wearables, steps, from, until, settle });
    if (until < 24 * 60 * 60_000) await rig.restart();
    from = until;
  }
  const alarms = rig.sink.alarms();
  t.same(alarmSummary(alarms), EXPECTED);
  t.same(alarms.map((a) => a.id).sort(), fullDayIds, 'the very same alarms (ids derive from each occurrence)');
  t.equal(alarms.find((a) => a.type === 'care.fall')?.raisedAt, at(14, 1), 'the pending fall survived the restart inside its window');
});

t.test('through the real outbox: every care record is accepted, durable and in order', async (t) => {
  const rig = await careRig({ outbox: true });
  t.teardown(() => rig.close());
  await runDay({ clock: rig.clock, wearables: rig.wearables, steps: dayScript(), settle: () => rig.monitor.idle() });
  t.same(alarmSummary(rig.sink.alarms()), EXPECTED);
  const stored = await rig.outbox!.readFrom(1, 100_000, 1 << 30);
  t.equal(stored.length, rig.sink.records.length, 'every record the gateway and the monitor appended is in the outbox');
  const care = stored.flatMap((r) => {
    const m = JSON.parse(r.json) as { type: string; data: { type?: string; kind?: string; id: string; sourceEventId?: string } };
    return m.type === 'alarm' ? [{ seq: r.seq, alarm: m.data }] : [];
  });
  t.same(care.map((c) => c.alarm.id).sort(), fullDayIds, 'the same alarms as without the outbox');
  for (const c of care) {
    const ev = stored.find((r) => r.seq < c.seq && r.json.includes(c.alarm.sourceEventId!));
    t.ok(ev, `${c.alarm.type}: its event is stored before it`);
  }
});
