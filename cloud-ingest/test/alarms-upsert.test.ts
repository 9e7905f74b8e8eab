import t from 'tap';
import { randomUUID } from 'node:crypto';
import { upsertAlarm, type AlarmUpsert } from '../src/alarms/upsert.js';
import { RunnerDb } from '../src/store/db.js';
import { BACKENDS, openBackend } from './helpers/alarms-setup.js';

const edgeAlarm = (over: Partial<AlarmUpsert> = {}): AlarmUpsert => ({
  id: randomUUID(), site: 'site-a', edge: 'edge-1', device: 'panel-1', type: 'fire.zone', severity: 'major', state: 'open',
  at: '2026-01-01T00:00:00.000Z', count: 1, message: 'zone 3', sourceEventId: null, tags: { zone: '3' },
  origin: 'edge', rule: null, adopted: false, resolvedAt: null, ...over,
});

for (const name of BACKENDS) {
  t.test(`one alarm upsert on ${name}`, async (t) => {
    const be = await openBackend(name);
    t.teardown(() => be.close());
    const db = new RunnerDb(() => be.runner);

    const first = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({ count: 3 })));
    t.equal(first.inserted, true, 'a new alarm is a new row');
    t.equal(first.count, 3, 'with the edge\'s own count');
    t.equal(first.origin, 'edge');

    // A repeat under another id counts up on the active alarm of the same (site, device, type).
    const repeat = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({ severity: 'critical', at: '2026-01-01T00:01:00.000Z', repeatAuditActor: 'rule:r1' })));
    t.equal(repeat.inserted, false);
    t.equal(repeat.id, first.id, 'counted on the active alarm');
    t.equal(repeat.count, 4);
    t.equal(repeat.severity, 'critical', 'the higher severity wins');
    const lower = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({ severity: 'minor' })));
    t.equal(lower.severity, 'critical', 'a lower severity does not lower it');
    const audit = await db.query<{ action: string; actor: string }>('SELECT action, actor FROM alarm_audit WHERE alarm_id = $1', [first.id]);
    t.same(audit.rows, [{ action: 'repeated', actor: 'rule:r1' }], 'a repeat is audited only when the caller names an actor');

    // Closed, then the edge reopens the same id: it counts up on the old row and takes the new state.
    const closed = await db.query('UPDATE alarms SET state = $2, resolved_at = now() WHERE id = $1', [first.id, 'resolved']);
    t.equal(closed.rowCount, 1, 'rowCount is answered on both backends');
    const reopened = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({ id: first.id, at: '2026-01-01T01:00:00.000Z' })));
    t.equal(reopened.inserted, false);
    t.equal(reopened.id, first.id);
    t.equal(reopened.state, 'open');
    t.equal(reopened.resolved_at, null);
    t.equal(reopened.count, 6);

    // An alarm that arrives already resolved, of an id never seen: a closed row, not an active one.
    const late = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({ device: 'panel-2', state: 'resolved', resolvedAt: '2026-01-01T02:00:00.000Z' })));
    t.equal(late.inserted, true);
    t.equal(late.state, 'resolved');
    t.ok(late.resolved_at, 'resolved at the time given');

    // The cloud's own alarm: its origin, rule and adoption, and its evidence in the same statement.
    const eventId = randomUUID();
    const cloud = await db.tx((tx) => upsertAlarm(tx, edgeAlarm({
      device: 'building-1', type: 'rule.double_knock', edge: null, origin: 'rule', rule: 'r1', adopted: true,
      evidence: [{ kind: 'event', ref: eventId }, { kind: 'snapshot', ref: 'cam-1/a.jpg', detail: { camera: 'cam-1' } }],
    })));
    t.equal(cloud.inserted, true);
    t.equal(cloud.rule, 'r1');
    const adopted = await db.query<{ adopted: boolean; origin: string }>('SELECT adopted, origin FROM alarms WHERE id = $1', [cloud.id]);
    t.same(adopted.rows, [{ adopted: true, origin: 'rule' }]);
    const evidence = await db.query<{ kind: string; ref: string }>('SELECT kind, ref FROM alarm_evidence WHERE alarm_id = $1 ORDER BY kind', [cloud.id]);
    t.same(evidence.rows, [{ kind: 'event', ref: eventId }, { kind: 'snapshot', ref: 'cam-1/a.jpg' }]);
    const active = await db.query('SELECT 1 FROM alarms WHERE site = $1 AND device = $2 AND type = $3', ['site-a', 'panel-1', 'fire.zone']);
    t.equal(active.rows.length, 1, 'still one row for the edge alarm after all of it');
  });
}
