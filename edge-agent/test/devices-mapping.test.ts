import t from 'tap';
import { randomUUID } from 'node:crypto';
import { validators, type Command, type DeviceKind } from '@safe-community/contracts';
import { loadProfiles } from '@safe-community/firmware-configs';
import { ProfileAdapter, type Decoded } from '../src/devices/index.js';
import type { DeviceInfo } from '../src/ports.js';

const NOW = Date.parse('2026-11-29T10:00:00.000Z');
const clock = { now: () => NOW, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const profiles = await loadProfiles();

function adapter(id: string): ProfileAdapter {
  const p = profiles.get(id);
  if (!p) throw new Error(`no profile ${id}`);
  return new ProfileAdapter(p, { site: 'S1', edge: 'E1', clock });
}
const dev = (id: string, kind: DeviceKind, profile: string): DeviceInfo => ({ id, kind, profile, tags: { building: 'B', zone: 'north' } });

function events(d: Decoded) {
  return d.messages.flatMap((m) => (m.type === 'event' ? [m.data] : []));
}
function telemetry(d: Decoded) {
  return d.messages.flatMap((m) => (m.type === 'telemetry' ? [m.data] : []));
}
function command(device: string, action: string, params: Record<string, unknown> = {}): Command {
  return { id: randomUUID(), site: 'S1', edge: 'E1', device, action, params, issuedAt: new Date(NOW).toISOString(), issuedBy: 'linkage:test' };
}

t.test('access_gate.acme-json both ways', async (t) => {
  const a = adapter('access_gate.acme-json');
  const g = dev('G1', 'access_gate', 'access_gate.acme-json');
  const cases: [string, object, string, Record<string, unknown>][] = [
    ['event', { evt: 'ACCESS', result: 'GRANTED', method: 'CARD', cred: 'A1B2', ts: 1_795_000_000 }, 'access.granted', { method: 'card', credential: 'A1B2' }],
    ['event', { evt: 'ACCESS', result: 'DENIED', method: 'QR', cred: 'q-77', reason: 'expired' }, 'access.denied', { method: 'qr', credential: 'q-77', reason: 'expired' }],
    ['event', { evt: 'ACCESS', result: 'GRANTED', method: 'FACE' }, 'access.granted', { method: 'face' }],
    ['event', { evt: 'DOOR', door: 'OPEN' }, 'door.opened', {}],
    ['event', { evt: 'DOOR', door: 'CLOSED' }, 'door.closed', {}],
    ['event', { evt: 'DOOR', door: 'FORCED' }, 'door.forced', {}],
    ['event', { evt: 'DOOR', door: 'HELD' }, 'door.held_open', {}],
  ];
  for (const [suffix, body, kind, payload] of cases) {
    const d = a.decode(g, suffix, Buffer.from(JSON.stringify(body)));
    const [ev] = events(d);
    t.equal(ev?.kind, kind);
    t.same(ev?.payload, payload, `${kind} payload`);
    t.same(ev?.tags, { building: 'B', zone: 'north' }, 'event carries the device tags');
    t.ok(validators.event.check(ev), 'valid canonical Event');
  }
  const first = events(a.decode(g, 'event', Buffer.from(JSON.stringify(cases[0]![1]))))[0];
  t.equal(first?.deviceTime, new Date(1_795_000_000_000).toISOString());
  t.equal(first?.severity, 'info');
  t.equal(events(a.decode(g, 'event', Buffer.from('{"evt":"DOOR","door":"FORCED"}')))[0]?.severity, 'major');

  const st = a.decode(g, 'state', Buffer.from('{"door":"HOLD_OPEN"}'));
  t.same(st.state, { door: 'held_open' });
  t.equal(st.messages[0]?.type, 'status');

  const expected: Record<string, string> = { open: 'OPEN', close: 'CLOSE', lock: 'LOCK', unlock: 'UNLOCK', hold_open: 'HOLD_OPEN', release: 'RELEASE' };
  for (const [action, op] of Object.entries(expected)) {
    const cmd = command('G1', action);
    const out = a.encode(g, cmd);
    t.equal(out.topic, 'devices/G1/cmd');
    t.same(JSON.parse(out.payload.toString()), { cid: cmd.id, op, ts: NOW / 1000 }, `${action} → ${op}`);
  }
  const cid = randomUUID();
  const rb = a.decode(g, 'ack', Buffer.from(JSON.stringify({ cid, res: 'OK', door: 'HOLD_OPEN' })));
  t.same(rb.readBacks, [{ commandId: cid, device: 'G1', ok: true }]);
  t.same(rb.state, { door: 'held_open' });
  const bad = a.decode(g, 'ack', Buffer.from(JSON.stringify({ cid, res: 'ERR', msg: 'jammed' })));
  t.same(bad.readBacks, [{ commandId: cid, device: 'G1', ok: false, detail: 'jammed' }]);
  t.throws(() => a.encode(g, command('G1', 'raise')), { code: 'ERR_COMMAND_UNSUPPORTED' });
});

t.test('access_gate.keyway-delim both ways', async (t) => {
  const a = adapter('access_gate.keyway-delim');
  const g = dev('G2', 'access_gate', 'access_gate.keyway-delim');
  const granted = events(a.decode(g, 'up', Buffer.from('A,1795000000,G,C,0042,0')))[0];
  t.equal(granted?.kind, 'access.granted');
  t.same(granted?.payload, { method: 'card', credential: '0042' });
  const denied = events(a.decode(g, 'up', Buffer.from('A,1795000000,D,F,face-9,3\r\n')))[0];
  t.equal(denied?.kind, 'access.denied');
  t.same(denied?.payload, { method: 'face', credential: 'face-9', reason: 'outside_schedule' });
  for (const [code, kind] of [['O', 'door.opened'], ['C', 'door.closed'], ['F', 'door.forced'], ['H', 'door.held_open']] as const) {
    t.equal(events(a.decode(g, 'up', Buffer.from(`D,1795000000,${code}`)))[0]?.kind, kind);
  }
  const ops: Record<string, string> = { open: 'OP', close: 'CL', lock: 'LK', unlock: 'UL', hold_open: 'HO', release: 'RL' };
  for (const [action, op] of Object.entries(ops)) {
    const cmd = command('G2', action);
    const out = a.encode(g, cmd);
    t.equal(out.topic, 'devices/G2/down');
    t.equal(out.payload.toString(), `C,${cmd.id},${op}`);
  }
  const cid = randomUUID();
  const rb = a.decode(g, 'up', Buffer.from(`K,${cid},0,H`));
  t.same(rb.readBacks, [{ commandId: cid, device: 'G2', ok: true, detail: 'ok' }]);
  t.same(rb.state, { door: 'held_open' });
  t.same(a.decode(g, 'up', Buffer.from(`K,${cid},3,L`)).readBacks[0]?.ok, false);
  t.throws(() => a.decode(g, 'up', Buffer.from('A,1,G,C')), { code: 'ERR_DECODE_PAYLOAD' }, 'short record');
  t.throws(() => a.decode(g, 'up', Buffer.from('Z,1,2')), { code: 'ERR_DECODE_RECORD' });
  t.throws(() => a.decode(g, 'up', Buffer.from('A,1795000000,G,X,1,0')), { code: 'ERR_DECODE_VALUE' }, 'unknown method code');
});

t.test('fire_panel.nova-json both ways', async (t) => {
  const a = adapter('fire_panel.nova-json');
  const p = dev('FP1', 'fire_panel', 'fire_panel.nova-json');
  const alarm = a.decode(p, 'alarm', Buffer.from(JSON.stringify({ type: 'ALARM', zone: 3, loop: 1, point: 12, device: 'SMOKE', time: '2026-11-29T09:59:59Z' })));
  const ev = events(alarm)[0];
  t.equal(ev?.kind, 'fire.alarm');
  t.equal(ev?.severity, 'critical');
  t.same(ev?.payload, { zone: 3, loop: 1, detector: 12, type: 'smoke' });
  t.equal(ev?.deviceTime, '2026-11-29T09:59:59.000Z');
  t.same(alarm.state, { alarm: true });
  for (const [body, kind, payload] of [
    [{ type: 'ALARM', zone: '4', loop: 2, point: 1, device: 'MCP' }, 'fire.alarm', { zone: 4, loop: 2, detector: 1, type: 'manual_call_point' }],
    [{ type: 'ALARM', zone: 4, loop: 2, point: 2, device: 'HEAT' }, 'fire.alarm', { zone: 4, loop: 2, detector: 2, type: 'heat' }],
    [{ type: 'FAULT', zone: 2, loop: 1, point: 7, fault: 'open_circuit' }, 'fire.fault', { zone: 2, loop: 1, detector: 7, fault: 'open_circuit' }],
    [{ type: 'SUPERVISORY', zone: 9, fault: 'valve_closed' }, 'fire.supervisory', { zone: 9, condition: 'valve_closed' }],
    [{ type: 'RESTORE', zone: 3, loop: 1, point: 12 }, 'fire.restore', { zone: 3, loop: 1, detector: 12 }],
    [{ type: 'RESET' }, 'fire.reset', {}],
  ] as const) {
    const got = events(a.decode(p, 'alarm', Buffer.from(JSON.stringify(body))))[0];
    t.equal(got?.kind, kind);
    t.same(got?.payload, payload, `${kind} payload`);
  }
  // A wrong panel clock costs the device time, never the alarm.
  const skewed = events(a.decode(p, 'alarm', Buffer.from('{"type":"ALARM","zone":1,"loop":1,"point":1,"device":"SMOKE","time":"garbage"}')))[0];
  t.equal(skewed?.kind, 'fire.alarm');
  t.equal(skewed?.deviceTime, undefined);

  const cmd = command('FP1', 'reset');
  const out = a.encode(p, cmd);
  t.equal(out.topic, 'devices/FP1/command');
  t.same(JSON.parse(out.payload.toString()), { ref: cmd.id, command: 'RESET', issued: new Date(NOW).toISOString() });
  t.same(a.decode(p, 'ack', Buffer.from(JSON.stringify({ ref: cmd.id, status: 'done' }))).readBacks, [{ commandId: cmd.id, device: 'FP1', ok: true, detail: 'done' }]);
});

t.test('fire_panel.gst-hex both ways', async (t) => {
  const a = adapter('fire_panel.gst-hex');
  const p = dev('FP2', 'fire_panel', 'fire_panel.gst-hex');
  const alarm = events(a.decode(p, 'raw', Buffer.from('01 0003 01 000c 01')))[0];
  t.equal(alarm?.kind, 'fire.alarm');
  t.same(alarm?.payload, { zone: 3, loop: 1, detector: 12, type: 'smoke' });
  t.same(events(a.decode(p, 'raw', Buffer.from('010102020001' + '03')))[0]?.payload, { zone: 258, loop: 2, detector: 1, type: 'manual_call_point' });
  t.same(events(a.decode(p, 'raw', Buffer.from('02000201000702')))[0]?.payload, { zone: 2, loop: 1, detector: 7, fault: 'short_circuit' });
  t.same(events(a.decode(p, 'raw', Buffer.from('03000902')))[0]?.payload, { zone: 9, condition: 'low_pressure' });
  t.same(events(a.decode(p, 'raw', Buffer.from('040003010001')))[0]?.kind, 'fire.restore');
  const reset = a.decode(p, 'raw', Buffer.from('05'));
  t.equal(events(reset)[0]?.kind, 'fire.reset');
  t.same(reset.state, { alarm: false });

  const cmd = command('FP2', 'reset');
  const out = a.encode(p, cmd);
  t.equal(out.topic, 'devices/FP2/raw/in');
  t.equal(out.payload.toString(), `81${cmd.id.replace(/-/g, '')}`);
  const ack = a.decode(p, 'raw', Buffer.from(`0a${cmd.id.replace(/-/g, '')}00`));
  t.same(ack.readBacks, [{ commandId: cmd.id, device: 'FP2', ok: true, detail: 'ok' }]);
  t.throws(() => a.decode(p, 'raw', Buffer.from('01000301')), { code: 'ERR_DECODE_PAYLOAD' }, 'truncated record');
  t.throws(() => a.decode(p, 'raw', Buffer.from('zz')), { code: 'ERR_DECODE_PAYLOAD' });
  t.throws(() => a.decode(p, 'raw', Buffer.from('ff')), { code: 'ERR_DECODE_RECORD' });
  t.throws(() => a.decode(p, 'raw', Buffer.from('01000301000c09')), { code: 'ERR_DECODE_VALUE' }, 'unknown detector type');
});

t.test('car_barrier.parkline-json both ways', async (t) => {
  const a = adapter('car_barrier.parkline-json');
  const b = dev('B1', 'car_barrier', 'car_barrier.parkline-json');
  const arrived = events(a.decode(b, 'evt', Buffer.from(JSON.stringify({ e: 'arrive', plate: '粤B12345', conf: 0.93, lane: 'exit1', t: 1_795_000_000_123 }))))[0];
  t.equal(arrived?.kind, 'vehicle.arrived');
  t.same(arrived?.payload, { plate: '粤B12345', confidence: 0.93, lane: 'exit1' });
  t.equal(arrived?.deviceTime, new Date(1_795_000_000_123).toISOString());
  t.same(a.decode(b, 'evt', Buffer.from('{"e":"up"}')).state, { barrier: 'raised' });
  t.equal(events(a.decode(b, 'evt', Buffer.from('{"e":"down"}')))[0]?.kind, 'barrier.lowered');
  t.equal(events(a.decode(b, 'evt', Buffer.from('{"e":"pass","plate":"X1"}')))[0]?.kind, 'vehicle.passed');
  const ops: Record<string, string> = { raise: 'up', lower: 'down', hold_raised: 'hold_up', release: 'auto' };
  for (const [action, op] of Object.entries(ops)) {
    const cmd = command('B1', action);
    t.same(JSON.parse(a.encode(b, cmd).payload.toString()), { id: cmd.id, do: op });
  }
  const cid = randomUUID();
  const rb = a.decode(b, 'ack', Buffer.from(JSON.stringify({ id: cid, ok: true, pos: 'hold_up' })));
  t.same(rb.readBacks, [{ commandId: cid, device: 'B1', ok: true }]);
  t.same(rb.state, { barrier: 'held_raised' });
});

t.test('wearable.carelink-json and env_sensor.airsense-json', async (t) => {
  const w = adapter('wearable.carelink-json');
  const wd = dev('W1', 'wearable', 'wearable.carelink-json');
  const sos = events(w.decode(wd, 'alert', Buffer.from('{"type":"sos","lat":22.54,"lon":114.05}')))[0];
  t.equal(sos?.kind, 'wearable.sos');
  t.equal(sos?.severity, 'critical');
  t.same(sos?.payload, { lat: 22.54, lon: 114.05 });
  t.equal(events(w.decode(wd, 'alert', Buffer.from('{"type":"fall","g":3.2}')))[0]?.kind, 'wearable.fall');
  const vit = telemetry(w.decode(wd, 'vitals', Buffer.from('{"hr":72,"spo2":97,"steps":1200,"bat":80,"lat":22.5,"lon":114.1,"ts":"2026-11-29T09:00:00Z"}')));
  t.same(vit.map((p) => [p.metric, p.value, p.unit]), [
    ['wearable.heart_rate', 72, 'bpm'], ['wearable.spo2', 97, '%'], ['wearable.steps', 1200, undefined], ['wearable.battery', 80, '%'], ['wearable.lat', 22.5, 'deg'], ['wearable.lon', 114.1, 'deg'],
  ]);
  t.equal(vit[0]?.time, '2026-11-29T09:00:00.000Z');
  t.same(telemetry(w.decode(wd, 'vitals', Buffer.from('{"hr":60}'))).map((p) => p.metric), ['wearable.heart_rate'], 'a subset of vitals is fine');
  t.throws(() => w.decode(wd, 'vitals', Buffer.from('{"colour":"red"}')), { code: 'ERR_DECODE_EMPTY' });
  t.throws(() => w.encode(wd, command('W1', 'open')), { code: 'ERR_COMMAND_UNSUPPORTED' });

  const e = adapter('env_sensor.airsense-json');
  const ed = dev('ENV1', 'env_sensor', 'env_sensor.airsense-json');
  const pts = telemetry(e.decode(ed, 'data', Buffer.from('{"data":{"t":215,"h":563,"pm25":12},"dev":{"bat":90},"ts":1795000000}')));
  t.same(pts.map((p) => [p.metric, p.value]), [['env_sensor.temperature', 21.5], ['env_sensor.humidity', 56.3], ['env_sensor.pm25', 12], ['env_sensor.battery', 90]]);
  const leak = e.decode(ed, 'alert', Buffer.from('{"alert":"leak","on":1,"probe":"P2"}'));
  t.equal(events(leak)[0]?.kind, 'env.water_leak');
  t.same(leak.state, { leak: true });
  t.equal(events(e.decode(ed, 'alert', Buffer.from('{"alert":"smoke","on":1,"level":4.5}')))[0]?.kind, 'env.smoke');
  t.equal(events(e.decode(ed, 'alert', Buffer.from('{"alert":"leak","on":0}')))[0]?.kind, 'env.water_leak_cleared');
  t.throws(() => e.decode(ed, 'nope', Buffer.from('{}')), { code: 'ERR_DECODE_TOPIC' });
  t.throws(() => e.decode(ed, 'alert', Buffer.from('{"alert":"fire","on":1}')), { code: 'ERR_DECODE_NO_RULE' });
  t.throws(() => e.decode(ed, 'data', Buffer.from('[1,2]')), { code: 'ERR_DECODE_PAYLOAD' });
  t.throws(() => e.decode(ed, 'data', Buffer.from('{"data":{"t":"hot"}}')), { code: 'ERR_DECODE_VALUE' });
});

t.test('crafted field names cannot reach prototypes', async (t) => {
  const a = adapter('access_gate.keyway-delim');
  const g = dev('G2', 'access_gate', 'access_gate.keyway-delim');
  t.throws(() => a.decode(g, 'up', Buffer.from('__proto__,1,2')), { code: 'ERR_DECODE_RECORD' });
  const j = adapter('access_gate.acme-json');
  t.throws(() => j.decode(dev('G1', 'access_gate', 'access_gate.acme-json'), 'event', Buffer.from('{"evt":"ACCESS","result":"GRANTED","method":"constructor"}')), { code: 'ERR_DECODE_VALUE' });
});
