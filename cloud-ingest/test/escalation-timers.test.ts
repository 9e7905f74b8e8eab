import t from 'tap';
import { AlarmLifecycle, Db, PersistentTimers, scheduleTimer, type AlarmServiceOptions } from '../src/alarms/index.js';
import { BACKENDS, guard, openAlarmRig, quietLogger } from './helpers/alarms-setup.js';

const policy: AlarmServiceOptions['escalation'] = {
  critical: { repeatSec: 60, levelsAfterSec: [180, 600] },
  info: { repeatSec: 0, levelsAfterSec: [] },
};

for (const name of BACKENDS) {
  t.test(`escalation on ${name}`, async (t) => {
    const { be, clock, notifier } = await openAlarmRig(t, name);
    const make = () => new AlarmLifecycle({ db: be.runner, clock, notifier, logger: quietLogger(), escalation: policy, channels: ['duty', 'supervisor', 'manager'] });
    let svc = make();
    await svc.start();
    t.teardown(() => svc.stop());
    const timers = async () => (await be.runner.query(`SELECT key, due_at FROM pending_timers WHERE kind = 'alarm.escalate'`)).rows;
    const t0 = clock.now();

    const a = await svc.raise({ site: 'site-a', device: 'panel-2', type: 'fire.zone', severity: 'critical', message: 'zone 1' });
    const sent = () => notifier.for(a.id).map((n) => `${n.level}:${n.channel}`);
    t.same(sent(), ['0:duty']);
    t.equal((await timers())[0]?.due_at.toISOString(), new Date(t0 + 60_000).toISOString(), 'first repeat timer persisted');

    t.equal(await svc.runDue(), 0, 'nothing due yet');
    clock.skip(60_000);
    t.equal(await svc.runDue(), 1);
    clock.skip(60_000);
    t.equal(await svc.runDue(), 1);
    t.same(sent(), ['0:duty', '0:duty', '0:duty'], 'repeats while unacknowledged');
    clock.skip(60_000);
    t.equal(await svc.runDue(), 1);
    t.same(sent().at(-1), '1:supervisor', 'escalated to level 1 at 180 s');
    const d1 = await svc.get(a.id, guard);
    t.equal(d1.escalationLevel, 1);
    t.match(d1.audit.filter((x) => x.action === 'escalated'), [{ actor: 'system', detail: { level: 1, from: 0, channel: 'supervisor' } }]);
    t.equal(d1.audit.filter((x) => x.action === 'notified').length, 2);

    // Restart with the next timer pending: a new service on the same database carries on from the table.
    await svc.stop();
    clock.skip(420_000);
    svc = make();
    await svc.start();
    t.equal(await svc.runDue(), 1, 'the new instance runs the timer left by the old one');
    t.same(sent().at(-1), '2:manager', 'level 2 at 600 s');
    t.equal((await timers()).length, 1, 'and keeps repeating');

    // Two instances on one database poll at the same moment: the due timer runs once.
    const twin = make();
    clock.skip(60_000);
    const countBefore = sent().length;
    const ran = await Promise.all([svc.runDue(), twin.runDue()]);
    t.equal(ran[0] + ran[1], 1, 'one instance ran it');
    t.equal(sent().length, countBefore + 1, 'one notification');

    await svc.acknowledge(a.id, guard);
    t.equal((await timers()).length, 0, 'acknowledge cancels the escalation');
    const before = sent().length;
    clock.skip(3600_000);
    t.equal(await svc.runDue(), 0);
    t.equal(sent().length, before, 'no more notifications after acknowledge');

    const quiet = await svc.raise({ site: 'site-a', device: 'env-1', type: 'env.humidity', severity: 'info', message: 'humid' });
    t.notOk((await timers()).some((r) => r.key === quiet.id), 'an info alarm with no repeats has no timer');

    t.test('a timer whose handler fails stays, postponed, and runs later', async (t) => {
      const db = new Db(() => be.runner);
      let calls = 0;
      const seen: string[] = [];
      const timersUnderTest = new PersistentTimers({
        db, clock, logger: quietLogger(), pollMs: 1000,
        handlers: {
          'test.flaky': async (timer, tx) => {
            calls++;
            await tx.query(`INSERT INTO alarm_audit (alarm_id, at, actor, action) VALUES ($1, now(), 'system', 'test')`, [a.id]);
            if (calls === 1) throw new Error('first run fails');
            return async () => {
              seen.push(timer.key);
            };
          },
        },
      });
      await db.tx((tx) => scheduleTimer(tx, 'test.flaky', 'k1', clock.now()));
      t.equal(await timersUnderTest.runDue(), 0, 'the failed run does not count');
      const row = (await be.runner.query(`SELECT due_at FROM pending_timers WHERE kind = 'test.flaky'`)).rows[0];
      t.ok(row && new Date(row.due_at).getTime() > clock.now(), 'still there, moved later');
      t.equal((await be.runner.query(`SELECT count(*)::int AS n FROM alarm_audit WHERE action = 'test'`)).rows[0].n, 0, 'its work rolled back');
      clock.skip(5000);
      t.equal(await timersUnderTest.runDue(), 1);
      t.same(seen, ['k1'], 'the side effect ran after the commit');
      t.equal((await be.runner.query(`SELECT count(*)::int AS n FROM alarm_audit WHERE action = 'test'`)).rows[0].n, 1);
    });

    t.test('SLA figures per site', async (t) => {
      clock.skip(1000);
      const b = await svc.raise({ site: 'site-a', device: 'gate-4', type: 'door.held', severity: 'major', message: 'held open' });
      clock.skip(30_000);
      await svc.acknowledge(b.id, guard);
      clock.skip(90_000);
      await svc.resolve(b.id, guard, {});
      await svc.raise({ site: 'site-b', device: 'gate-1', type: 'door.held', severity: 'minor', message: 'held' });
      const rows = await svc.sla({ sites: ['site-a'] });
      t.equal(rows.length, 1, 'scoped to the actor sites');
      const r = rows[0]!;
      t.equal(r.site, 'site-a');
      t.equal(r.alarms, 3);
      t.equal(r.acknowledged, 2);
      t.equal(r.resolved, 1);
      t.equal(r.ackAvgSec, (660 + 30) / 2, "acknowledged at 660 s and at 30 s");
      t.equal(r.resolveAvgSec, 120);
      t.equal(r.resolveP90Sec, 120);
      t.same((await svc.sla({ sites: '*' })).map((x) => x.site), ['site-a', 'site-b']);
    });
  });
}
