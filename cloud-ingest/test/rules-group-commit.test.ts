import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { Event } from '@safe-community/contracts';
import { AlarmLifecycle, RecordingNotifier } from '../src/alarms/index.js';
import { RuleEngine, emptyCommitted, parseRuleSet } from '../src/rules/index.js';
import { FakeClock } from '@safe-community/testkit';
import { BACKENDS, admin, openBackend, quietLogger } from './helpers/alarms-setup.js';

const RULES = parseRuleSet(`
version: 1
rules:
  - { id: knock, type: double_knock, kinds: [fire.alarm], windowSec: 60, distinct: device,
      alarm: { type: fire.confirmed, severity: critical, message: two detectors } }
  - { id: door-person, type: door_forced_person, doorKinds: [door.forced], personKinds: [video.person], windowSec: 30,
      alarm: { type: intrusion.confirmed, severity: major, message: door forced and a person } }
`);

function ev(clock: FakeClock, kind: string, device: string, building: string, offsetMs = 0): Event {
  return { id: randomUUID(), site: 'site-g', edge: 'edge-1', device, kind, severity: 'major',
    edgeTime: new Date(clock.now() + offsetMs).toISOString(), tags: { building }, payload: {} };
}

for (const name of BACKENDS) {
  t.test(`group commit of rule hits on ${name}`, async (t) => {
    const be = await openBackend(name);
    t.teardown(() => be.close());
    const clock = new FakeClock();
    const alarms = new AlarmLifecycle({ db: be.runner, clock, notifier: new RecordingNotifier(), logger: quietLogger() });
    const engine = new RuleEngine({ alarms, clock, rules: RULES, logger: quietLogger() });
    await alarms.start();
    await engine.start();
    t.teardown(async () => {
      await engine.stop();
      await alarms.stop();
    });

    t.test('knocks fed in one go share commits, and the in-memory verdicts agree with the durable ones', async (t) => {
      const before = { ...engine.commitStats() };
      // Five detectors of one building, each in its own batch, fed without waiting (as the ingest feeds them).
      const evals = ['d1', 'd2', 'd3', 'd4', 'd5'].map((d, i) => engine.evaluate({ ...emptyCommitted(), events: [ev(clock, 'fire.alarm', d, 'g1', i * 100)] }));
      t.same(evals.map((e) => e.matches.length), [0, 1, 1, 1, 1], 'the first knock alone completes nothing; each later one does');
      const durable = await Promise.all(evals.map((e) => e.durable));
      t.same(durable.map((d) => d.length), [0, 1, 1, 1, 1], 'the database agrees');
      const after = engine.commitStats();
      t.equal(after.items - before.items, 5, 'every hit went through the group commit');
      t.ok(after.flushes - before.flushes < 5, `fewer commits (${after.flushes - before.flushes}) than hits (5)`);
      const ids = new Set(durable.flat().map((a) => a.id));
      t.equal(ids.size, 1, 'one alarm for the building');
      const detail = await alarms.get([...ids][0]!, admin);
      t.equal(detail.count, 4, 'raised once and counted up three times');
      t.ok(detail.evidence.events.length >= 5, 'every knock is evidence');
      const repeats = detail.audit.filter((a) => a.action === 'repeated').map((a) => (a.detail as { count: number }).count).sort();
      t.same(repeats, [2, 3, 4], 'one repeat entry per repeat, counting up');
    });

    t.test('door and person in one flush pair in arrival order, as they would one by one', async (t) => {
      const [door, person] = [
        engine.evaluate({ ...emptyCommitted(), events: [ev(clock, 'door.forced', 'door-7', 'g2')] }),
        engine.evaluate({ ...emptyCommitted(), events: [ev(clock, 'video.person', 'cam-7', 'g2', 500)] }),
      ];
      t.same([door.matches.length, person.matches.length], [0, 1]);
      t.match(person.matches[0], { rule: 'door-person', device: 'door-7', type: 'intrusion.confirmed' });
      const [d, p] = await Promise.all([door.durable, person.durable]);
      t.same(d, [], 'the door alone raised nothing');
      t.match(p, [{ type: 'intrusion.confirmed', device: 'door-7', count: 1 }]);
    });

    t.test('a restarted engine refills its windows from rule_hits', async (t) => {
      await engine.onCommitted({ ...emptyCommitted(), events: [ev(clock, 'fire.alarm', 'd1', 'g3')] });
      const again = new RuleEngine({ alarms, clock, logger: quietLogger() });
      await again.start();
      t.teardown(() => again.stop());
      const e = again.evaluate({ ...emptyCommitted(), events: [ev(clock, 'fire.alarm', 'd2', 'g3', 200)] });
      t.equal(e.matches.length, 1, 'the knock before the restart is in the window');
      t.match(await e.durable, [{ type: 'fire.confirmed', device: 'building.g3' }]);
    });
  });
}
