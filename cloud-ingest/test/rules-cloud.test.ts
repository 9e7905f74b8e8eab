import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { FakeClock } from '@safe-community/testkit';
import type { Event, LinkageExecution, Alarm, DeviceStatus } from '@safe-community/contracts';
import { AlarmLifecycle } from '../src/alarms/index.js';
import { RuleEngine, emptyCommitted, parseRuleSet, ruleSetVersions, validateRuleSet, type CommittedBatch, type RuleSet } from '../src/rules/index.js';
import { BACKENDS, admin, openAlarmRig, quietLogger } from './helpers/alarms-setup.js';

const RULES_YAML = `
version: 1
rules:
  - id: fire-double-knock
    type: double_knock
    kinds: [fire.alarm, fire.smoke]
    windowSec: 60
    distinct: device
    alarm: { type: fire.confirmed, severity: critical, message: two detectors in one building }
  - id: linkage-failure
    type: linkage_failure
    alarm: { type: linkage.failure, severity: critical, message: fire linkage did not confirm }
  - id: door-person
    type: door_forced_person
    doorKinds: [door.forced]
    personKinds: [video.person]
    windowSec: 30
    alarm: { type: intrusion.confirmed, severity: major, message: door forced and a person inside }
  - id: offline
    type: device_offline
    thresholdSec: 300
    devicePattern: '^(gate|panel)-'
    alarm: { type: device.offline, severity: major, message: device offline }
`;

const batch = (p: Partial<CommittedBatch>): CommittedBatch => ({ ...emptyCommitted(), ...p });

function ev(clock: FakeClock, kind: string, device: string, tags: Record<string, string>, offsetMs = 0): Event {
  return { id: randomUUID(), site: 'site-a', edge: 'edge-1', device, kind, severity: 'major',
    edgeTime: new Date(clock.now() + offsetMs).toISOString(), tags, payload: {} };
}

t.test('rule sets are validated and versioned by schema', async (t) => {
  const set = parseRuleSet(RULES_YAML);
  t.equal(set.rules.length, 4);
  t.same(parseRuleSet(JSON.stringify(set)), set, 'JSON is accepted too');
  t.throws(() => validateRuleSet({ version: 1, rules: [{ id: 'x', type: 'double_knock', kinds: ['fire.alarm'], windowSec: 10, distinct: 'device', alarm: { type: 'a', severity: 'major', message: 'm' }, colour: 'red' }] }),
    { code: 'ERR_RULES_INVALID', message: /rules\/0/ }, 'unknown keys are refused with the path');
  t.throws(() => validateRuleSet({ version: 1, rules: [{ id: 'x', type: 'teleport' }] }), { code: 'ERR_RULES_INVALID', message: /rules\/0\/type/ });
  t.throws(() => validateRuleSet({ version: 0, rules: [] }), { code: 'ERR_RULES_INVALID' });
  t.throws(() => parseRuleSet('rules: [\n'), { code: 'ERR_RULES_INVALID' });
  const dup = structuredClone(set);
  dup.rules.push(structuredClone(set.rules[0]!));
  t.throws(() => validateRuleSet(dup), { code: 'ERR_RULES_INVALID', message: /duplicate rule id/ });
  t.throws(() => validateRuleSet({ version: 1, rules: [{ ...set.rules[3]!, devicePattern: '([' }] }), { code: 'ERR_RULES_INVALID', message: /devicePattern/ });
});

for (const name of BACKENDS) {
  t.test(`cloud rules on ${name}`, async (t) => {
    const { be, clock, notifier } = await openAlarmRig(t, name);
    const rules: RuleSet = parseRuleSet(RULES_YAML);
    let alarms = new AlarmLifecycle({ db: be.runner, clock, notifier, logger: quietLogger() });
    let engine = new RuleEngine({ alarms, clock, rules, logger: quietLogger() });
    await alarms.start();
    await engine.start();
    t.teardown(async () => {
      await engine.stop();
      await alarms.stop();
    });
    t.equal(engine.version, 1);

    t.test('versions only move forward', async (t) => {
      await t.rejects(engine.setRules(rules, 'user:ada'), { code: 'ERR_RULES_VERSION' });
      await engine.setRules({ ...rules, version: 2 }, 'user:ada');
      t.equal(engine.version, 2);
      t.same((await ruleSetVersions(alarms.db)).map((v) => [v.version, v.loadedBy]), [[1, 'config'], [2, 'user:ada']]);
    });

    t.test('double knock: two detectors of one building within the window confirm the fire', async (t) => {
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'fire.alarm', 'det-1', { building: 'b1', zone: 'z1' })] })), [], 'one knock is not enough');
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'fire.alarm', 'det-1', { building: 'b1' }, 5000)] })), [], 'the same detector twice is not a double knock');
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'fire.smoke', 'det-9', { building: 'b2' }, 6000)] })), [], 'another building does not count');
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'fire.smoke', 'det-3', { building: 'b1' }, 200_000)] })), [], 'outside the window does not count');
      const second = ev(clock, 'fire.smoke', 'det-2', { building: 'b1' }, 20_000);
      const out = await engine.onCommitted(batch({ events: [second, ev(clock, 'video.car', 'cam-1', { building: 'b1' })] }));
      t.equal(out.length, 1);
      const a = out[0]!;
      t.match(a, { type: 'fire.confirmed', severity: 'critical', device: 'building.b1', rule: 'fire-double-knock', origin: 'rule', state: 'open' });
      const d = await alarms.get(a.id, admin);
      t.ok(d.evidence.events.includes(second.id), 'the knocks are evidence');
      t.ok(d.evidence.events.length >= 2);
    });

    t.test('two knocks committed at the same moment still see each other', async (t) => {
      const [x, y] = await Promise.all([
        engine.onCommitted(batch({ events: [ev(clock, 'fire.alarm', 'det-21', { building: 'b21' })] })),
        engine.onCommitted(batch({ events: [ev(clock, 'fire.alarm', 'det-22', { building: 'b21' }, 100)] })),
      ]);
      t.equal(x.length + y.length, 1, 'exactly one of the two confirms');
      t.equal((await alarms.list({ sites: '*', device: 'building.b21' })).length, 1);
    });

    t.test('linkage failure escalates to a critical alarm', async (t) => {
      const ok: LinkageExecution = { id: randomUUID(), site: 'site-a', edge: 'edge-1', rule: 'fire-evac', triggerEventId: randomUUID(),
        startedAt: clock.iso(), finishedAt: clock.iso(), status: 'confirmed',
        actions: [{ device: 'gate-1', action: 'hold_open', commandId: randomUUID(), status: 'confirmed', attempts: 1, sentAfterMs: 3, confirmedAfterMs: 40 }] };
      t.same(await engine.onCommitted(batch({ linkages: [ok] })), [], 'a confirmed linkage raises nothing');
      const bad: LinkageExecution = { ...ok, id: randomUUID(), status: 'partial',
        actions: [...ok.actions, { device: 'barrier-2', action: 'raise', commandId: randomUUID(), status: 'timeout', attempts: 3, sentAfterMs: 4 }] };
      // The ingest writes the execution before it feeds the rules.
      await be.runner.query(
        `INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions)
         VALUES ('edge-1', 9, $1, 'site-a', $2, $3, $4, $4, $5, $6::jsonb)`,
        [bad.id, bad.rule, bad.triggerEventId, bad.startedAt, bad.status, JSON.stringify(bad.actions)]);
      const out = await engine.onCommitted(batch({ linkages: [bad] }));
      t.equal(out.length, 1);
      t.match(out[0], { device: 'barrier-2', type: 'linkage.failure', severity: 'critical' });
      const d = await alarms.get(out[0]!.id, admin);
      t.same(d.evidence.linkages.map((l) => l.id), [bad.id]);
      const edgeAlarm: Alarm = { id: randomUUID(), site: 'site-a', edge: 'edge-1', device: 'gate-7', type: 'linkage.failed', severity: 'major',
        state: 'open', raisedAt: clock.iso(), count: 1, message: 'gate-7 did not confirm' };
      const out2 = await engine.onCommitted(batch({ alarms: [edgeAlarm] }));
      t.match(out2, [{ device: 'gate-7', type: 'linkage.failure', severity: 'critical' }]);
    });

    t.test('door forced + person in the same building within the window, in either order', async (t) => {
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'door.forced', 'door-5', { building: 'b3' })] })), []);
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'video.person', 'cam-8', { building: 'b4' }, 2000)] })), [], 'a person in another building');
      t.same(await engine.onCommitted(batch({ events: [ev(clock, 'video.person', 'cam-3', { building: 'b3' }, 90_000)] })), [], 'too late');
      const out = await engine.onCommitted(batch({ events: [ev(clock, 'video.person', 'cam-3', { building: 'b3' }, 10_000)] }));
      t.match(out, [{ device: 'door-5', type: 'intrusion.confirmed', severity: 'major' }]);
      const out2 = await engine.onCommitted(batch({ events: [ev(clock, 'video.person', 'cam-4', { building: 'b6' }, 1000), ev(clock, 'door.forced', 'door-6', { building: 'b6' }, 3000)] }));
      t.match(out2, [{ device: 'door-6', type: 'intrusion.confirmed' }], 'person first, then the door');
    });

    t.test('device offline beyond the threshold survives a restart', async (t) => {
      const st = (device: string, online: boolean): DeviceStatus => ({ site: 'site-a', edge: 'edge-1', device, online, at: clock.iso() });
      await engine.onCommitted(batch({ statuses: [st('gate-3', false), st('panel-1', false), st('cam-1', false)] }));
      const pending = (await be.runner.query(`SELECT key FROM pending_timers WHERE kind = 'rule.offline' ORDER BY key`)).rows.map((r) => r.key);
      t.same(pending, ['offline|site-a|gate-3', 'offline|site-a|panel-1'], 'a timer per matching device, persisted');
      clock.skip(60_000);
      await engine.onCommitted(batch({ statuses: [st('panel-1', true)] }));
      // Stop everything with the gate's timer pending; a fresh engine on the same database must fire it.
      await engine.stop();
      await alarms.stop();
      clock.skip(250_000);
      alarms = new AlarmLifecycle({ db: be.runner, clock, notifier, logger: quietLogger() });
      engine = new RuleEngine({ alarms, clock, logger: quietLogger() });
      await alarms.start();
      await engine.start();
      t.equal(engine.version, 2, 'the stored rule set is loaded at start');
      t.equal(await engine.runDue(), 1);
      const offline = await alarms.list({ sites: '*', type: 'device.offline' });
      t.same(offline.map((a) => a.device), ['gate-3'], 'only the device still offline');
      t.equal(await engine.runDue(), 0, 'fired once');
      t.equal((await be.runner.query(`SELECT count(*)::int AS n FROM pending_timers WHERE kind = 'rule.offline'`)).rows[0].n, 0);
    });

    t.test('a device already offline in device_status when the engine starts gets its timer', async (t) => {
      await be.runner.query(`INSERT INTO device_status (site, edge, device, online, at) VALUES ('site-a', 'edge-1', 'gate-11', false, $1), ('site-a', 'edge-1', 'cam-11', false, $1)`, [clock.iso()]);
      await engine.stop();
      engine = new RuleEngine({ alarms, clock, logger: quietLogger() });
      await engine.start();
      clock.skip(301_000);
      t.equal(await engine.runDue(), 1, 'only the device the rule covers');
      t.same((await alarms.list({ sites: '*', type: 'device.offline', device: 'gate-11' })).map((a) => a.count), [1]);
      await engine.stop();
      engine = new RuleEngine({ alarms, clock, logger: quietLogger() });
      await engine.start();
      clock.skip(301_000);
      t.equal(await engine.runDue(), 0, 'a device whose alarm is active is not raised again at each start');
    });
  });
}
