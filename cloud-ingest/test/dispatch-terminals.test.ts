import t from 'tap';
import mqtt from 'mqtt';
import Fastify from 'fastify';
import { AlarmLifecycle, terminalRoutes } from '../src/alarms/index.js';
import { startAedes, waitFor } from '@safe-community/testkit';
import { BACKENDS, guard, openAlarmRig, quietLogger, viewer } from './helpers/alarms-setup.js';

const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'none');

for (const name of BACKENDS) {
  t.test(`dispatch to terminals on ${name}`, async (t) => {
    const { be, clock } = await openAlarmRig(t, name);
    const broker = await startAedes();
    t.teardown(() => broker.close());
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    t.teardown(() => pub.endAsync());
    const terminal = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    t.teardown(() => terminal.endAsync());
    const received: Array<{ topic: string; body: Record<string, any> }> = [];
    terminal.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString('utf8')) }));
    await terminal.subscribeAsync('terminals/+/dispatch', { qos: 1 });

    let failPublish = false;
    const svc = new AlarmLifecycle({
      db: be.runner, clock, logger: quietLogger(),
      publish: async (topic, body) => {
        if (failPublish) throw new Error('broker away');
        await pub.publishAsync(topic, body, { qos: 1 });
      },
    });
    await svc.start();
    t.teardown(() => svc.stop());

    const a = await svc.raise({ site: 'site-a', device: 'door-3', type: 'door.forced', severity: 'major', message: 'forced open' });
    await svc.acknowledge(a.id, guard);
    clock.skip(10_000);
    const d = await svc.dispatch(a.id, guard, 'guard-7', 'north stairwell');
    t.equal(d.state, 'dispatched');
    t.equal(d.dispatchedAt, clock.iso());
    t.match(d.dispatches, [{ terminal: 'guard-7', status: 'sent', sentBy: 'sam', note: 'north stairwell' }]);
    const dispatchId = d.dispatches[0]!.id;

    await waitFor(() => received.length > 0, { what: 'the dispatch on the terminal topic', timeoutMs: 5000 });
    t.equal(received.length, 1, 'published on the terminal topic');
    t.equal(received[0]?.topic, 'terminals/guard-7/dispatch');
    t.match(received[0]?.body, { type: 'dispatch', dispatchId, note: 'north stairwell', alarm: { id: a.id, state: 'dispatched', device: 'door-3' } });

    const pending = await svc.pendingDispatches('guard-7');
    t.same(pending.map((p) => [p.id, p.alarm.id]), [[dispatchId, a.id]], 'the HTTP poll sees it too');
    t.same(await svc.pendingDispatches('guard-8'), []);

    t.equal(await code(svc.terminalReport(dispatchId, 'guard-8', 'accept')), 'ERR_DISPATCH_NOT_FOUND', 'another terminal cannot answer it');
    t.equal(await code(svc.terminalReport(dispatchId, 'guard-7', 'feedback', '')), 'ERR_VALIDATION');
    clock.skip(5000);
    t.equal((await svc.terminalReport(dispatchId, 'guard-7', 'accept')).status, 'accepted');
    t.equal(await code(svc.terminalReport(dispatchId, 'guard-7', 'accept')), 'ERR_DISPATCH_STATE');
    clock.skip(120_000);
    const arrived = await svc.terminalReport(dispatchId, 'guard-7', 'arrive');
    t.equal(arrived.arrivedAt, clock.iso());
    clock.skip(60_000);
    const done = await svc.terminalReport(dispatchId, 'guard-7', 'feedback', 'door closed, nobody inside');
    t.match(done, { status: 'done', feedback: 'door closed, nobody inside' });
    t.same(await svc.pendingDispatches('guard-7'), [], 'nothing left to do');

    const detail = await svc.get(a.id, guard);
    t.match(detail.dispatches[0], { status: 'done', acceptedAt: String, arrivedAt: String, feedbackAt: clock.iso() });
    t.same(detail.audit.filter((x) => x.actor === 'terminal:guard-7').map((x) => x.action), ['dispatch.accepted', 'dispatch.arrived', 'dispatch.done']);
    const res = await svc.resolve(a.id, guard, { note: 'guard confirmed' });
    t.equal(res.state, 'resolved');
    t.equal(await code(svc.dispatch(a.id, guard, 'guard-7')), 'ERR_ALARM_STATE', 'a resolved alarm is not dispatched');

    t.test('dispatching an open alarm acknowledges it; a failed publish still leaves the poll', async (t) => {
      failPublish = true;
      const b = await svc.raise({ site: 'site-a', device: 'wear-2', type: 'sos', severity: 'critical', message: 'SOS' });
      t.equal(await code(svc.dispatch(b.id, viewer, 'team-1')), 'ERR_FORBIDDEN');
      const db = await svc.dispatch(b.id, guard, 'team-1');
      t.equal(db.state, 'dispatched');
      t.equal(db.acknowledgedBy, 'sam');
      t.equal((await svc.pendingDispatches('team-1')).length, 1);
      const again = await svc.dispatch(b.id, guard, 'team-2');
      t.equal(again.dispatches.length, 2, 'a second terminal can be sent');
    });

    t.test('a terminal polls and reports over HTTP', async (t) => {
      const app = Fastify({ logger: false });
      await app.register(terminalRoutes, { alarms: svc, verify: (req, terminal) => req.headers['x-terminal-key'] === `key-${terminal}` });
      t.teardown(() => app.close());
      const h = { 'x-terminal-key': 'key-team-1' };
      t.equal((await app.inject({ url: '/terminals/team-1/dispatches' })).statusCode, 401, 'no key, no dispatches');
      const poll = await app.inject({ url: '/terminals/team-1/dispatches', headers: h });
      t.equal(poll.statusCode, 200);
      const list = poll.json().dispatches as Array<{ id: string; alarm: { type: string } }>;
      t.equal(list.length, 1);
      t.equal(list[0]!.alarm.type, 'sos');
      const id = list[0]!.id;
      const acc = await app.inject({ method: 'POST', url: `/terminals/team-1/dispatches/${id}/accept`, headers: h });
      t.equal(acc.statusCode, 200);
      t.equal(acc.json().status, 'accepted');
      const twice = await app.inject({ method: 'POST', url: `/terminals/team-1/dispatches/${id}/accept`, headers: h });
      t.same([twice.statusCode, twice.json().code], [409, 'ERR_DISPATCH_STATE']);
      const other = await app.inject({ method: 'POST', url: `/terminals/team-2/dispatches/${id}/arrive`, headers: { 'x-terminal-key': 'key-team-2' } });
      t.same([other.statusCode, other.json().code], [404, 'ERR_DISPATCH_NOT_FOUND'], 'another terminal gets not found');
      const bad = await app.inject({ method: 'POST', url: `/terminals/team-1/dispatches/${id}/feedback`, headers: h, payload: { text: '' } });
      t.same([bad.statusCode, bad.json().code], [400, 'ERR_VALIDATION']);
      const fb = await app.inject({ method: 'POST', url: `/terminals/team-1/dispatches/${id}/feedback`, headers: h, payload: { text: 'resident fine, fell asleep on the button' } });
      t.equal(fb.json().status, 'done');
      t.same((await app.inject({ url: '/terminals/team-1/dispatches', headers: h })).json().dispatches, []);
    });
  });
}
