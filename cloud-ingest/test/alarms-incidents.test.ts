import t from 'tap';
import { AlarmLifecycle } from '../src/alarms/index.js';
import { BACKENDS, guard, openAlarmRig, quietLogger } from './helpers/alarms-setup.js';

for (const name of BACKENDS) {
  t.test(`incidents on ${name}`, async (t) => {
    const { be, clock } = await openAlarmRig(t, name);
    const svc = new AlarmLifecycle({ db: be.runner, clock, logger: quietLogger(), incidentWindowSec: 300 });
    await svc.start();
    t.teardown(() => svc.stop());
    const raise = (device: string, type: string, tags: Record<string, string>, severity: 'minor' | 'major' | 'critical' = 'major') =>
      svc.raise({ site: 'site-a', device, type, severity, message: type, tags, at: clock.iso() });

    // Fire panel zone alarm + camera detection in the same building: one incident.
    const fire = await raise('panel-1', 'fire.zone', { building: 'b1', zone: '3' }, 'critical');
    clock.skip(40_000);
    const cam = await raise('cam-2', 'video.smoke', { building: 'b1' });
    t.equal(cam.incidentId, fire.incidentId, 'same building within the window joins the incident');
    const other = await raise('door-9', 'door.forced', { building: 'b2' });
    t.not(other.incidentId, fire.incidentId, 'another building is another incident');
    // Elderly care: the same resident's wearable SOS and the room sensor group by resident, not building.
    const sos = await raise('wear-4', 'sos', { resident: 'r-77', building: 'b1' }, 'critical');
    const fall = await raise('room-4', 'fall.detected', { resident: 'r-77', building: 'b1' });
    t.equal(fall.incidentId, sos.incidentId);
    t.not(sos.incidentId, fire.incidentId);

    const list = await svc.incidents({ sites: ['site-a'], open: true });
    const inc = list.find((i) => i.id === fire.incidentId)!;
    t.same(inc.alarmIds.sort(), [fire.id, cam.id].sort());
    t.equal(inc.severity, 'critical', 'an incident takes its most severe alarm');
    t.equal(inc.groupKey, 'building:b1');
    t.equal(inc.openAlarms, 2);
    t.equal(list.length, 3);
    t.same(await svc.incidents({ sites: ['site-b'] }), [], 'scoped to sites');

    // Outside the window a new alarm of the same building opens a new incident.
    clock.skip(600_000);
    const late = await raise('cam-3', 'video.person', { building: 'b1' });
    t.not(late.incidentId, fire.incidentId);
    const untagged = await raise('gate-1', 'gate.jam', {});
    t.equal((await svc.incidents({ sites: '*' })).find((i) => i.id === untagged.incidentId)?.groupKey, 'device:gate-1');

    // The incident closes only when all of its alarms are resolved.
    await svc.acknowledge(fire.id, guard);
    await svc.resolve(fire.id, guard, {});
    t.equal((await svc.incidents({ sites: '*' })).find((i) => i.id === fire.incidentId)?.state, 'open', 'one alarm still open');
    await svc.acknowledge(cam.id, guard);
    const r = await svc.resolve(cam.id, guard, { falseAlarm: true });
    const closed = (await svc.incidents({ sites: '*', open: false })).find((i) => i.id === fire.incidentId);
    t.equal(closed?.state, 'closed');
    t.equal(closed?.closedAt, clock.iso());
    t.equal(closed?.openAlarms, 0);
    t.ok(r.audit.some((x) => x.action === 'incident.closed'), 'the closing is audited on the last alarm');
  });
}
