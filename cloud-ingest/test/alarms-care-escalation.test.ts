/**
 * Care incidents escalate as one, to the resident's own contacts: guard team first, family from level 1,
 * the service channel from level 2; a later alarm joins the running escalation; acknowledging every open
 * alarm ends it; a new alarm after that starts it again; a restart keeps it; an alarm older than the levels
 * (replayed after an outage) starts at the level it would have reached; residents are enrolled by file.
 */
import t from 'tap';
import { AlarmLifecycle, careChannels, saveResidents, listResidents, INCIDENT_ESCALATE_TIMER, DEFAULT_ESCALATION, DEFAULT_CHANNELS } from '../src/index.js';
import { BACKENDS, guard, openAlarmRig, quietLogger } from './helpers/alarms-setup.js';

const SITE = 'site-a';
const resident = (id: string, wearable: string, extra: Record<string, unknown> = {}) => ({
  id, name: `Resident ${id}`, wearable, building: 'B', unit: '101',
  consent: { givenAt: '2026-11-01T10:00:00+08:00', givenBy: 'the resident', scope: ['alerts', 'location', 'vitals', 'activity'] },
  contacts: [
    { name: 'Daughter', role: 'family', phone: '+86-1' },
    { name: 'Guard team B', role: 'guard_team', team: 'guards-b' },
    { name: 'Son', role: 'family' },
  ],
  geofence: { polygon: [{ lat: 0, lon: 0 }, { lat: 0, lon: 1 }, { lat: 1, lon: 1 }] },
  quietHours: { start: '22:00', end: '07:00' },
  ...extra,
});
const file = (...residents: unknown[]) => ({ version: 1, timeZone: 'Asia/Shanghai', residents });

t.test('channels per level', async (t) => {
  const cfg = { policy: DEFAULT_ESCALATION, channels: DEFAULT_CHANNELS };
  const contacts = resident('R1', 'W1').contacts as Parameters<typeof careChannels>[0]['contacts'];
  t.same(careChannels({ contacts }, 0, cfg), ['guard_team:guards-b']);
  t.same(careChannels({ contacts }, 1, cfg), ['guard_team:guards-b', 'family:Daughter', 'family:Son'], 'family in the order listed');
  t.same(careChannels({ contacts }, 2, cfg), ['guard_team:guards-b', 'family:Daughter', 'family:Son', 'manager']);
  t.same(careChannels({ contacts: [{ name: 'Only', role: 'family' }] }, 0, cfg), ['family:Only'], 'no guard team: the family from the start');
});

for (const name of BACKENDS) {
  t.test(`care escalation on ${name}`, async (t) => {
    const { be, clock, notifier } = await openAlarmRig(t, name);
    const published: Array<{ topic: string; body: { type: string; channel: string; level: number; incidentId: string; openAlarms: number; alarm: { id: string } } }> = [];
    const publish = (topic: string, payload: string) => void published.push({ topic, body: JSON.parse(payload) });
    const make = () => new AlarmLifecycle({ db: be.runner, clock, notifier, logger: quietLogger(), publish });
    let svc = make();
    await svc.start();
    t.teardown(() => svc.stop());

    // Enrolment: validated like the edge's file; a second save replaces the first.
    await t.rejects(saveResidents(svc.db, SITE, { version: 1, residents: [{ id: 'R1' }] }, 'admin:a'), { code: 'ERR_CONFIG' });
    await t.rejects(saveResidents(svc.db, SITE, file(resident('R1', 'W1'), resident('R2', 'W1')), 'admin:a'), { code: 'ERR_CARE_RESIDENTS' });
    t.same(await saveResidents(svc.db, SITE, file(resident('R1', 'W1'), resident('R9', 'W9')), 'admin:a'), { saved: 2, removed: 0 });
    t.same(await saveResidents(svc.db, SITE, file(resident('R1', 'W2'), resident('R2', 'W1')), 'admin:a'), { saved: 2, removed: 1 }, 'wearables may swap owners in one save');
    const enrolled = await listResidents(svc.db, { sites: [SITE] });
    t.same(enrolled.map((r) => `${r.id}:${r.wearable}:${r.team}`), ['R1:W2:guards-b', 'R2:W1:guards-b']);
    t.same(await listResidents(svc.db, { sites: [SITE], teams: ['guards-a'] }), [], 'filtered by team');

    const raise = (type: string, severity: 'critical' | 'major', tags: Record<string, string>, at = clock.iso()) =>
      svc.raise({ site: SITE, device: 'W2', type, severity, message: type, tags: { resident: 'R1', building: 'B', ...tags }, at });
    const calls = () => notifier.sent.map((n) => `${n.level}:${n.channel}`);
    const timer = async () => (await be.runner.query(`SELECT key, due_at, payload FROM pending_timers WHERE kind = $1`, [INCIDENT_ESCALATE_TIMER])).rows;

    const fall = await raise('care.fall', 'critical', { episode: 'R1-e1' });
    t.same(calls(), ['0:guard_team:guards-b'], 'the guard team first');
    t.equal((await timer()).length, 1, 'one timer for the incident');
    t.equal((await be.runner.query(`SELECT count(*)::int AS n FROM pending_timers WHERE kind = 'alarm.escalate'`)).rows[0].n, 0, 'no per-alarm timer');
    clock.skip(60_000);
    t.equal(await svc.runDue(), 1);
    clock.skip(30_000);
    const sos = await raise('care.sos', 'critical', { episode: 'R1-e1' });
    t.equal(sos.incidentId, fall.incidentId, 'same episode, same incident');
    t.equal(notifier.sent.length, 2, 'joining calls nobody by itself');
    t.match((await svc.get(sos.id, guard)).audit.map((a) => a.action), ['raised', 'joined']);

    // A restart in the middle keeps the incident's timer.
    await svc.stop();
    svc = make();
    await svc.start();
    clock.skip(90_000); // 180 s after the fall: level 1
    t.equal(await svc.runDue(), 1);
    t.same(calls().slice(2), ['1:guard_team:guards-b', '1:family:Daughter', '1:family:Son'], 'level 1 adds the family, in order');
    // The guard team's terminals hear every call on the dispatch channel; the family only through the notifier.
    t.same(published.map((p) => `${p.topic} L${p.body.level}`), ['terminals/guards-b/call L0', 'terminals/guards-b/call L0', 'terminals/guards-b/call L1']);
    t.match(published.at(-1)?.body, { type: 'call', channel: 'guard_team:guards-b', incidentId: fall.incidentId, openAlarms: 2, alarm: { id: fall.id } });
    const d = await svc.get(fall.id, guard);
    t.equal(d.escalationLevel, 1);
    t.match(d.audit.find((a) => a.action === 'escalated')?.detail, { level: 1, from: 0, incidentId: fall.incidentId });
    t.equal((await svc.get(sos.id, guard)).escalationLevel, 1, 'every open alarm of the incident moves up');

    // Acknowledging one alarm is not enough; acknowledging the last open one ends the calls.
    await svc.acknowledge(fall.id, guard);
    t.equal((await timer()).length, 1, 'the SOS is still unacknowledged');
    clock.skip(60_000);
    t.equal(await svc.runDue(), 1);
    t.equal(notifier.sent.at(-1)?.alarmId, sos.id, 'the lead of the calls is the alarm still open');
    await svc.acknowledge(sos.id, guard);
    t.same(await timer(), [], 'calls end when no alarm of the incident is open');
    const before = notifier.sent.length;
    clock.skip(600_000);
    t.equal(await svc.runDue(), 0);
    t.equal(notifier.sent.length, before);

    // A new alarm of the same episode after the acknowledge starts the calls again, from level 0.
    const inactive = await raise('care.inactivity', 'major', { episode: 'R1-e1' });
    t.equal(inactive.incidentId, fall.incidentId);
    t.same(calls().slice(before), ['0:guard_team:guards-b']);
    await svc.acknowledge(inactive.id, guard);

    // Another episode is another incident.
    const other = await raise('care.wandering', 'major', { episode: 'R1-e2' });
    t.not(other.incidentId, fall.incidentId);
    await svc.acknowledge(other.id, guard);

    // Replayed after an outage: raised 30 minutes ago, it starts at level 2 (guard, family, manager).
    for (const a of [fall, sos, inactive, other]) await svc.resolve(a.id, guard, {});
    const n0 = notifier.sent.length;
    const old = await raise('care.sos', 'critical', { episode: 'R1-e3' }, new Date(clock.now() - 1_800_000).toISOString());
    t.same(calls().slice(n0), ['2:guard_team:guards-b', '2:family:Daughter', '2:family:Son', '2:manager']);
    t.match((await svc.get(old.id, guard)).audit.map((a) => a.action), ['raised', 'escalated']);
    t.equal(Date.parse((await timer())[0].due_at), clock.now() + 60_000, 'then repeats every minute');
    await svc.dispatch(old.id, guard, 'guard-terminal-1');
    t.same(await timer(), [], 'dispatching counts as acknowledged');

    // A resident tag the site never enrolled escalates the ordinary way (duty, supervisor, manager).
    const n1 = notifier.sent.length;
    await svc.raise({ site: SITE, device: 'W7', type: 'care.sos', severity: 'critical', message: 'sos', tags: { resident: 'R7', episode: 'R7-e1' } });
    t.same(calls().slice(n1), ['0:duty']);
  });
}
