import t from 'tap';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfiles, checkProfile, deviceMetrics, profileMetrics, telemetryMetric, KIND_CATALOG, PROFILES_DIR } from '../src/index.js';

t.test('every shipped profile passes the schema and its own checks', async (t) => {
  const profiles = await loadProfiles();
  t.ok(profiles.size >= 7, `${profiles.size} profiles`);
  const byKind = new Map<string, number>();
  for (const p of profiles.values()) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
  t.ok((byKind.get('access_gate') ?? 0) >= 2, 'two gate dialects');
  t.ok((byKind.get('fire_panel') ?? 0) >= 2, 'two fire-panel dialects');
  for (const kind of ['car_barrier', 'wearable', 'env_sensor']) t.ok((byKind.get(kind) ?? 0) >= 1, `a ${kind} profile`);
  const codecs = new Set([...profiles.values()].map((p) => p.codec.type));
  t.same([...codecs].sort(), ['delimited', 'hex', 'json'], 'all three wire styles are in use');
});

t.test('each profile covers its kind: every canonical command, event kind and metric', async (t) => {
  for (const p of (await loadProfiles()).values()) {
    const cat = KIND_CATALOG[p.kind];
    if (!cat) {
      t.fail(`no catalog for ${p.kind}`);
      continue;
    }
    const actions = Object.keys(p.commands?.actions ?? {});
    for (const c of cat.commands) t.ok(actions.includes(c), `${p.id} encodes command ${c}`);
    const kinds = new Set(p.inbound.flatMap((r) => (r.emit === 'event' ? [r.kind] : [])));
    for (const e of cat.events) t.ok(kinds.has(e), `${p.id} emits ${e}`);
    const metrics = new Set(p.inbound.flatMap((r) => (r.emit === 'telemetry' ? r.metrics.map((m) => m.metric) : [])));
    for (const m of cat.metrics) t.ok(metrics.has(m), `${p.id} reports ${m}`);
  }
});

t.test('telemetry is named <kind>.<metric>: profiles write the bare name, one word', async (t) => {
  const profiles = await loadProfiles();
  t.equal(telemetryMetric('wearable', 'lat'), 'wearable.lat');
  for (const p of profiles.values()) {
    for (const m of profileMetrics(p)) t.ok(m.startsWith(`${p.kind}.`), `${p.id}: ${m} is in its kind's namespace`);
  }
  t.same(profileMetrics(profiles.get('wearable.carelink-json')!), [
    'wearable.battery', 'wearable.heart_rate', 'wearable.lat', 'wearable.lon', 'wearable.spo2', 'wearable.steps',
  ]);
  t.same(deviceMetrics(profiles.values()), [
    'env_sensor.battery', 'env_sensor.humidity', 'env_sensor.pm25', 'env_sensor.temperature',
    'wearable.battery', 'wearable.heart_rate', 'wearable.lat', 'wearable.lon', 'wearable.spo2', 'wearable.steps',
  ], 'every metric a device can send');
  t.same(profileMetrics(profiles.get('access_gate.acme-json')!), [], 'a gate sends no telemetry');

  const good = JSON.parse(await readFile(join(PROFILES_DIR, 'wearable.carelink-json.json'), 'utf8')) as { inbound: { emit: string; metrics?: { metric: string }[] }[] };
  const dotted = structuredClone(good);
  dotted.inbound.find((r) => r.emit === 'telemetry')!.metrics![0]!.metric = 'location.lat';
  t.throws(() => checkProfile(dotted), { code: 'ERR_PROFILE_METRIC', message: /"location\.lat": name the measurement in one word \("lat"\); the edge sends it as wearable\.lat/ },
    'a dotted name is refused: the kind is the only namespace');
  const prefixed = structuredClone(good);
  prefixed.inbound.find((r) => r.emit === 'telemetry')!.metrics![0]!.metric = 'wearable.heart_rate';
  t.throws(() => checkProfile(prefixed), { code: 'ERR_PROFILE_METRIC', message: /sends it as wearable\.heart_rate$/ }, 'so is a name that carries the kind itself');
  const upper = structuredClone(good);
  upper.inbound.find((r) => r.emit === 'telemetry')!.metrics![0]!.metric = 'HeartRate';
  t.throws(() => checkProfile(upper), { code: 'ERR_VALIDATION' }, 'lower case only');
});

t.test('a broken profile is refused with the file, path and reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'profiles-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const good = JSON.parse(await readFile(join(PROFILES_DIR, 'access_gate.acme-json.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'access_gate.acme-json.json'), JSON.stringify({ ...good, codec: { type: 'xml' } }));
  await t.rejects(loadProfiles(dir), { code: 'ERR_PROFILE_INVALID', message: /access_gate\.acme-json\.json: invalid DeviceProfile: \/codec/ });

  t.throws(() => checkProfile({ ...good, unknownKey: 1 }), { code: 'ERR_VALIDATION' }, 'unknown keys are rejected');
  t.throws(() => checkProfile(good, 'other-name.json'), { code: 'ERR_PROFILE_NAME' });
  const noReadBack = { ...good, inbound: (good.inbound as { emit: string }[]).filter((r) => r.emit !== 'readback') };
  t.throws(() => checkProfile(noReadBack), { code: 'ERR_PROFILE_READBACK' }, 'commands need a read-back rule');
  const wrongTemplate = { ...good, commands: { topic: 'cmd', actions: { open: { fields: ['x'] } } } };
  t.throws(() => checkProfile(wrongTemplate), { code: 'ERR_PROFILE_COMMAND' });
});

t.test('the example device list matches the profiles; bad lists are refused', async (t) => {
  const { loadDeviceList, checkDeviceList, EXAMPLE_DEVICES_FILE } = await import('../src/index.js');
  const profiles = await loadProfiles();
  const list = await loadDeviceList(EXAMPLE_DEVICES_FILE, profiles);
  t.ok(list.devices.length >= 7);
  t.same(new Set(list.devices.map((d) => d.profile)).size, profiles.size, 'every profile is used by an example device');
  t.throws(() => checkDeviceList({ ...list, devices: [{ id: 'X', kind: 'wearable', profile: 'fire_panel.nova-json', tags: {} }] }, profiles), { code: 'ERR_PROFILE_KIND' });
  t.throws(() => checkDeviceList({ ...list, devices: [{ id: 'X', kind: 'wearable', profile: 'nope', tags: {} }] }, profiles), { code: 'ERR_UNKNOWN_PROFILE' });
  t.throws(() => checkDeviceList({ ...list, devices: [list.devices[0], list.devices[0]] }, profiles), { code: 'ERR_DUPLICATE_DEVICE' });
  t.throws(() => checkDeviceList({ ...list, devices: [{ id: 'bad/id', kind: 'wearable', profile: 'wearable.carelink-json', tags: {} }] }, profiles), { code: 'ERR_VALIDATION' });
});
