import t from 'tap';
import { randomUUID } from 'node:crypto';
import { AlarmLifecycle } from '../src/alarms/index.js';
import { BACKENDS, admin, guard, guard2, installer, openAlarmRig, otherSite, quietLogger, viewer } from './helpers/alarms-setup.js';

const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'none');

for (const name of BACKENDS) {
  t.test(`alarm lifecycle on ${name}`, async (t) => {
    const { be, clock, notifier } = await openAlarmRig(t, name);
    const svc = new AlarmLifecycle({ db: be.runner, clock, notifier, logger: quietLogger() });
    await svc.start();
    t.teardown(() => svc.stop());

    const base = { site: 'site-a', device: 'panel-1', type: 'fire.zone', severity: 'major' as const, message: 'zone 3 alarm', tags: { building: 'b1' } };
    const a = await svc.raise({ ...base, origin: 'rule', rule: 'r1' });
    t.equal(a.state, 'open');
    t.equal(a.count, 1);
    t.ok(a.incidentId, 'joined an incident');
    t.same(notifier.for(a.id).map((n) => [n.level, n.channel]), [[0, 'duty']], 'first notification at level 0');

    t.test('a repeat counts up on the active alarm and keeps the highest severity', async (t) => {
      clock.skip(1000);
      const again = await svc.raise({ ...base, severity: 'critical' });
      t.equal(again.id, a.id);
      t.equal(again.count, 2);
      t.equal(again.severity, 'critical');
      const again2 = await svc.raise({ ...base, severity: 'minor' });
      t.equal(again2.count, 3);
      t.equal(again2.severity, 'critical');
      t.equal((await svc.list({ sites: '*', device: 'panel-1' })).length, 1, 'still one row');
    });

    t.test('roles and sites', async (t) => {
      t.equal(await code(svc.acknowledge(a.id, viewer)), 'ERR_FORBIDDEN');
      t.equal(await code(svc.acknowledge(a.id, installer)), 'ERR_FORBIDDEN');
      t.equal(await code(svc.acknowledge(a.id, otherSite)), 'ERR_ALARM_NOT_FOUND', 'another site answers not found');
      t.equal(await code(svc.get(a.id, otherSite)), 'ERR_ALARM_NOT_FOUND');
      t.equal(await code(svc.get(randomUUID(), admin)), 'ERR_ALARM_NOT_FOUND');
      t.equal(await code(svc.get('not-a-uuid', admin)), 'ERR_ALARM_NOT_FOUND');
      const c = await svc.comment(a.id, installer, 'checked the panel wiring');
      t.equal(c.comments.length, 1);
      t.equal(c.comments[0]!.author, 'ian');
      t.equal(c.state, 'open', 'a comment changes no state');
      t.equal((await svc.get(a.id, viewer)).id, a.id, 'viewer reads');
      t.equal(await code(svc.comment(a.id, viewer, 'x')), 'ERR_FORBIDDEN');
      t.equal(await code(svc.comment(a.id, guard, '')), 'ERR_VALIDATION');
      t.equal(await code(svc.dispatch(a.id, guard, 'bad/terminal')), 'ERR_VALIDATION');
      t.equal((await svc.list({ sites: ['site-b'] })).length, 0, 'list is scoped to sites');
      t.equal(await code(svc.list({ sites: '*', limit: 0 })), 'ERR_VALIDATION');
      t.equal(await code(svc.list({ sites: '*', state: ['nope' as never] })), 'ERR_VALIDATION');
    });

    t.test('illegal transitions change nothing', async (t) => {
      t.equal(await code(svc.resolve(a.id, guard, {})), 'ERR_ALARM_STATE', 'resolve before acknowledge is refused by policy');
      t.equal(await code(svc.resolve(a.id, guard, { falseAlarm: true })), 'ERR_ALARM_STATE');
      const d = await svc.get(a.id, admin);
      t.equal(d.state, 'open');
      t.equal(d.audit.filter((x) => x.action === 'resolved').length, 0);
    });

    t.test('acknowledge, assign, resolve with a full audit trail', async (t) => {
      clock.skip(30_000);
      const ack = await svc.acknowledge(a.id, guard, 'on it');
      t.equal(ack.state, 'acknowledged');
      t.equal(ack.acknowledgedBy, 'sam');
      t.equal(ack.acknowledgedAt, clock.iso());
      t.equal(await code(svc.acknowledge(a.id, guard)), 'ERR_ALARM_STATE', 'acknowledging twice is illegal');
      const asg = await svc.assign(a.id, guard, 'team-north');
      t.equal(asg.assignee, 'team-north');
      clock.skip(60_000);
      const res = await svc.resolve(a.id, guard, { note: 'detector dusty, cleaned' });
      t.equal(res.state, 'resolved');
      t.equal(res.resolvedBy, 'sam');
      t.equal(await code(svc.acknowledge(a.id, guard)), 'ERR_ALARM_STATE');
      t.equal(await code(svc.assign(a.id, guard, 'x')), 'ERR_ALARM_STATE');
      const trail = res.audit.map((x) => `${x.action}:${x.from ?? '-'}>${x.to ?? '-'}:${x.actor}`);
      t.same(trail.slice(0, 7), [
        'raised:->open:rule:r1',
        'repeated:open>open:api',
        'repeated:open>open:api',
        'commented:open>open:user:ian',
        'acknowledged:open>acknowledged:user:sam',
        'assigned:acknowledged>acknowledged:user:sam',
        'resolved:acknowledged>resolved:user:sam',
      ]);
      t.ok(res.audit.every((x) => typeof x.at === 'string'));
      const inc = (await svc.incidents({ sites: ['site-a'] })).find((i) => i.id === a.incidentId);
      t.equal(inc?.state, 'closed', 'incident closes when its alarms are resolved');
      const fresh = await svc.raise(base);
      t.not(fresh.id, a.id, 'after resolve the same (site, device, type) opens a new alarm');
      t.equal(fresh.count, 1);
    });

    t.test('two staff acknowledge at once: one wins, the other gets ERR_ALARM_STATE', async (t) => {
      const x = await svc.raise({ site: 'site-a', device: 'gate-9', type: 'door.forced', severity: 'major', message: 'forced' });
      const results = await Promise.allSettled([svc.acknowledge(x.id, guard), svc.acknowledge(x.id, guard2), svc.acknowledge(x.id, admin)]);
      t.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      t.same(rejected.map((r) => (r.reason as { code: string }).code), ['ERR_ALARM_STATE', 'ERR_ALARM_STATE']);
      const d = await svc.get(x.id, admin);
      t.equal(d.audit.filter((e) => e.action === 'acknowledged').length, 1);
    });

    t.test('evidence: snapshots, events and linkage executions', async (t) => {
      const ev = randomUUID();
      const link = randomUUID();
      await be.runner.query(
        `INSERT INTO events (edge, seq, id, site, device, kind, severity, time, payload) VALUES ('e1', 1, $1, 'site-a', 'cam-1', 'video.person', 'major', $2, $3::jsonb)`,
        [ev, clock.iso(), JSON.stringify({ snapshot: 'snap/cam-1/0001.jpg' })]);
      await be.runner.query(
        `INSERT INTO linkage_executions (edge, seq, id, site, rule, trigger_event_id, time, finished_at, status, actions)
         VALUES ('e1', 2, $1, 'site-a', 'fire-evac', $2, $3, $3, 'partial', '[]'::jsonb)`, [link, ev, clock.iso()]);
      const x = await svc.raise({ site: 'site-a', device: 'cam-1', type: 'video.intrusion', severity: 'minor', message: 'person',
        sourceEventId: ev, evidence: [{ kind: 'snapshot', ref: 'snap/cam-1/0002.jpg' }] });
      const d = await svc.get(x.id, guard);
      t.same(d.evidence.snapshots.sort(), ['snap/cam-1/0001.jpg', 'snap/cam-1/0002.jpg']);
      t.same(d.evidence.events, [ev]);
      t.same(d.evidence.linkages.map((l) => [l.id, l.status]), [[link, 'partial']]);
    });

    t.test('edge alarms written by the ingest are taken in once', async (t) => {
      const id = randomUUID();
      await be.runner.query(
        `INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, message, tags)
         VALUES ($1, 'site-a', 'edge-1', 'wear-7', 'sos', 'critical', 'open', $2, $2, 'SOS pressed', '{"resident":"r-12"}'::jsonb)`, [id, clock.iso()]);
      t.equal(await svc.adoptPending(), 1);
      t.equal(await svc.adoptPending(), 0, 'taken in once');
      const d = await svc.get(id, guard);
      t.ok(d.incidentId);
      t.equal(d.audit[0]?.actor, 'edge:edge-1');
      t.equal(notifier.for(id).length, 1, 'notified once');
    });

    t.test('a policy without acknowledge-first allows resolving an open alarm', async (t) => {
      const loose = new AlarmLifecycle({ db: be.runner, clock, logger: quietLogger(), requireAckBeforeResolve: false });
      const x = await loose.raise({ site: 'site-a', device: 'smoke-2', type: 'fire.smoke', severity: 'major', message: 'smoke' });
      const r = await loose.resolve(x.id, guard, { falseAlarm: true, note: 'cooking' });
      t.equal(r.state, 'false_alarm');
    });
  });
}
