import t from 'tap';
import { randomUUID } from 'node:crypto';
import {
  validators, ValidationError, parseJson, deviceTopic, parseDeviceTopic, edgeUplinkTopic, parseEdgeTopic,
  uplinkSubscription, ContractError, ENVELOPE_VERSION, type Event,
} from '@safe-community/contracts';

const now = new Date().toISOString();
const event = (): Event => ({
  id: randomUUID(), site: 'site-1', edge: 'edge-1', device: 'FP1', kind: 'fire.alarm', severity: 'critical',
  edgeTime: now, tags: { building: 'B1', zone: '3' }, payload: { zone: 3, type: 'smoke' },
});

t.test('a valid event passes and keeps its type', async (t) => {
  const e = validators.event.assert(event());
  t.equal(e.kind, 'fire.alarm');
  t.same(validators.event.issues(event()), []);
});

t.test('invalid messages are rejected with path and reason', async (t) => {
  const bad = { ...event(), severity: 'apocalyptic', edgeTime: 'yesterday' };
  const issues = validators.event.issues(bad);
  t.ok(issues.some((i) => i.path === '/severity'), 'names /severity');
  t.ok(issues.some((i) => i.path === '/edgeTime'), 'names /edgeTime');
  t.throws(() => validators.event.assert(bad), ValidationError);
  try {
    validators.event.assert(bad);
  } catch (err) {
    const v = err as ValidationError;
    t.equal(v.code, 'ERR_VALIDATION');
    t.match(v.message, /invalid Event: \/(severity|edgeTime)/);
  }
  t.ok(validators.event.issues({ ...event(), extra: 1 }).some((i) => i.path === '/extra'), 'unknown keys rejected');
  t.ok(validators.event.issues({ ...event(), id: 'not-a-uuid' }).some((i) => i.path === '/id'), 'uuid checked');
  t.ok(validators.event.issues({ ...event(), kind: 'Fire Alarm' }).some((i) => i.path === '/kind'), 'kind format');
  t.ok(validators.event.issues({ ...event(), device: 'a/b' }).some((i) => i.path === '/device'), 'ids cannot hold topic separators');
});

t.test('envelope: version, batch, per-message sequence', async (t) => {
  const env = { v: ENVELOPE_VERSION, edge: 'edge-1', site: 'site-1', sentAt: now, messages: [{ seq: 1, type: 'event', data: event() }] };
  t.ok(validators.envelope.check(env));
  t.notOk(validators.envelope.check({ ...env, v: 3 }), 'unknown version');
  t.notOk(validators.envelope.check({ ...env, messages: [] }), 'empty batch');
  t.notOk(validators.envelope.check({ ...env, messages: [{ seq: 0, type: 'event', data: event() }] }), 'seq starts at 1');
  t.notOk(validators.envelope.check({ ...env, messages: [{ seq: 1, type: 'telemetry', data: event() }] }), 'type must match data');
});

t.test('other messages', async (t) => {
  t.ok(validators.telemetry.check({ site: 's', edge: 'e', device: 'd', metric: 'heart_rate', value: 72, unit: 'bpm', time: now }));
  t.notOk(validators.telemetry.check({ site: 's', edge: 'e', device: 'd', metric: 'hr', value: '72', time: now }), 'value must be a number');
  const cmd = { id: randomUUID(), site: 's', edge: 'e', device: 'G1', action: 'hold_open', params: {}, issuedAt: now, issuedBy: 'linkage:fire' };
  t.ok(validators.command.check(cmd));
  t.notOk(validators.command.check({ ...cmd, action: 'Hold Open' }));
  t.ok(validators.commandResult.check({ commandId: cmd.id, site: 's', edge: 'e', device: 'G1', action: 'hold_open', status: 'confirmed', attempts: 1, latencyMs: 3.2, at: now }));
  t.ok(validators.deviceStatus.check({ site: 's', edge: 'e', device: 'G1', online: true, at: now }));
  t.ok(validators.alarm.check({ id: randomUUID(), site: 's', device: 'G1', type: 'linkage.failed', severity: 'critical', state: 'open', raisedAt: now, count: 1, message: 'G1 did not confirm hold_open' }));
});

t.test('parseJson gives the same error shape', async (t) => {
  t.throws(() => parseJson('Event', '{oops'), { code: 'ERR_VALIDATION' });
  t.same(parseJson('Event', Buffer.from('{"a":1}')), { a: 1 });
});

t.test('topics round-trip and refuse bad ids', async (t) => {
  t.equal(deviceTopic('G1', 'cmd'), 'devices/G1/cmd');
  t.same(parseDeviceTopic('devices/G1/evt/door'), { device: 'G1', suffix: 'evt/door' });
  t.equal(parseDeviceTopic('other/G1/x'), null);
  t.equal(parseDeviceTopic('devices/G1'), null);
  t.throws(() => deviceTopic('G+1', 'cmd'), ContractError);
  t.throws(() => deviceTopic('G1', '#'), { code: 'ERR_TOPIC_SUFFIX' });
  t.equal(edgeUplinkTopic('edge-1'), 'edges/edge-1/uplink');
  t.same(parseEdgeTopic('edges/edge-1/uplink'), { edge: 'edge-1', channel: 'uplink' });
  t.equal(parseEdgeTopic('edges/edge-1/sideways'), null);
  t.equal(uplinkSubscription('ingest'), '$share/ingest/edges/+/uplink');
  t.equal(uplinkSubscription(), 'edges/+/uplink');
});
