import t from 'tap';
import mqtt from 'mqtt';
import { FakeClock, startAedes, waitFor } from '@safe-community/testkit';
import { CareWearable, DAY_RESIDENTS, DAY_START, dayResidents, dayScript, runDay } from '../src/index.js';

t.test('the scripted day: five residents, every heartbeat, the scripted moments once each', async (t) => {
  const steps = dayScript();
  t.same(steps.map((s) => s.at), [...steps.map((s) => s.at)].sort((a, b) => a - b), 'in time order');
  t.ok(steps.every((s) => s.at >= 0 && s.at < 24 * 3_600_000), 'all within the day');
  const kinds = (w: string) => steps.filter((s) => s.wearable === w && s.action.kind !== 'vitals').map((s) => s.action.kind);
  t.same(kinds('W-101'), ['fall', 'ok', 'sos', 'sos']);
  t.same(kinds('W-102'), ['fall', 'sos', 'fall', 'ok']);
  const reports = (w: string) => steps.filter((s) => s.wearable === w && s.action.kind === 'vitals');
  t.equal(reports('W-104').length, 144, 'a report every ten minutes');
  t.equal(reports('W-105').length, 91, 'the dead band stops after 15:05');
  const r4 = reports('W-104').map((s) => (s.action.kind === 'vitals' ? s.action.values.steps ?? 0 : 0));
  const idle = reports('W-104').filter((s, i) => i > 0 && r4[i] === r4[i - 1] && s.at >= 13 * 3_600_000 && s.at < 18 * 3_600_000);
  t.equal(idle.length, 30, 'R4 takes no steps 13:00–18:00');
  const file = dayResidents() as { residents: Array<{ wearable: string; geofence: { polygon: unknown[] } }> };
  t.same(file.residents.map((r) => r.wearable), DAY_RESIDENTS.map((r) => r.wearable));
  t.ok(file.residents.every((r) => r.geofence.polygon.length === 4));
});

t.test('wearables publish their vendor payloads on device time, and the anxin band acknowledges commands', async (t) => {
  const broker = await startAedes();
  const url = broker.url;
  const listener = await mqtt.connectAsync(url, { clientId: 'listener' });
  const seen: string[] = [];
  listener.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await listener.subscribeAsync('devices/#', { qos: 1 });
  const clock = new FakeClock(DAY_START + 9 * 3_600_000);
  const json = new CareWearable({ url, id: 'W-101', password: 'x', dialect: 'carelink-json', now: () => clock.now() });
  const delim = new CareWearable({ url, id: 'W-102', password: 'x', dialect: 'anxin-delim', now: () => clock.now() });
  await json.start();
  await delim.start();
  t.teardown(async () => {
    await json.stop();
    await delim.stop();
    await listener.endAsync();
    await broker.close();
  });

  const steps = [
    { at: 9 * 3_600_000, wearable: 'W-101', action: { kind: 'sos' as const, at: { lat: 22.5, lon: 114.1 } } },
    { at: 9 * 3_600_000 + 60_000, wearable: 'W-102', action: { kind: 'fall' as const, g: 3.2 } },
    { at: 9 * 3_600_000 + 80_000, wearable: 'W-102', action: { kind: 'ok' as const } },
    { at: 9 * 3_600_000 + 90_000, wearable: 'W-101', action: { kind: 'ok' as const } },
    { at: 9 * 3_600_000 + 120_000, wearable: 'W-102', action: { kind: 'vitals' as const, values: { hr: 72, spo2: 97, steps: 10, bat: 64, lat: 22.5, lon: 114.1 } } },
  ];
  const { published } = await runDay({ clock, wearables: new Map([['W-101', json], ['W-102', delim]]), steps, from: 9 * 3_600_000, until: 10 * 3_600_000 });
  t.equal(published, 5);
  t.equal(clock.now(), DAY_START + 10 * 3_600_000, 'the clock ends where the run ends');
  const epoch = (DAY_START + 9 * 3_600_000) / 1000;
  await waitFor(() => seen.length >= 5, { what: 'payloads' });
  // Two clients: the broker may interleave their deliveries, so compare as sets.
  t.same([...seen].sort(), [
    `devices/W-101/alert {"type":"sos","lat":22.5,"lon":114.1,"ts":"${new Date(DAY_START + 9 * 3_600_000).toISOString()}"}`,
    `devices/W-102/up F,${epoch + 60},,,32`,
    `devices/W-102/up K,${epoch + 80}`,
    `devices/W-101/alert {"type":"ok","ts":"${new Date(DAY_START + 9 * 3_600_000 + 90_000).toISOString()}"}`,
    `devices/W-102/up V,${epoch + 120},72,97,10,64,22.500000,114.100000`,
  ].sort());

  await listener.publishAsync('devices/W-102/down', 'C,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10,FIND', { qos: 1 });
  await listener.publishAsync('devices/W-102/down', 'C,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e11,DANCE', { qos: 1 });
  await waitFor(() => seen.filter((s) => s.includes(' A,')).length >= 2, { what: 'acks' });
  t.same(seen.filter((s) => s.includes(' A,')), [
    'devices/W-102/up A,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e10,1,FIND',
    'devices/W-102/up A,0b7f4c1e-3f55-4a8e-9a51-2b0c7d1d9e11,0,DANCE',
  ]);
  t.same(delim.ops, ['FIND']);
});
