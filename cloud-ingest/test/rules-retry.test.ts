/**
 * A database blip between the batch's commit and the cloud-side work must not lose it: taking in edge
 * alarms and a rule's match are tried again on transient errors (a dropped connection, a serialization
 * failure), and not on others. The database here is PGlite behind a runner that fails the next
 * transactions on demand with a chosen SQLSTATE.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { Alarm, Event } from '@safe-community/contracts';
import { migrate, isTransientDbError } from '../src/index.js';
import { AlarmLifecycle, RecordingNotifier } from '../src/alarms/index.js';
import { RuleEngine, emptyCommitted, parseRuleSet } from '../src/rules/index.js';
import { FakeClock, waitFor } from '@safe-community/testkit';
import { admin, quietLogger } from './helpers/alarms-setup.js';

const RULES = parseRuleSet(`
version: 1
rules:
  - id: knock
    type: double_knock
    kinds: [fire.alarm]
    windowSec: 60
    distinct: device
    alarm: { type: fire.confirmed, severity: critical, message: two detectors }
`);

t.test('which errors are transient', async (t) => {
  for (const code of ['08006', '08003', '57P01', '53300', '40001', '40P01', 'ECONNRESET', 'ECONNREFUSED']) t.ok(isTransientDbError({ code }), code);
  for (const code of ['23505', '23514', '42P01', 'ERR_VALIDATION', 'ERR_ALARM_STATE']) t.notOk(isTransientDbError({ code }), code);
  t.ok(isTransientDbError(new Error('Connection terminated unexpectedly')), 'node-postgres dropped connection');
  t.notOk(isTransientDbError(new Error('boom')));
});

t.test('adoption and rule matches survive transient failures; other failures are not retried', async (t) => {
  const pg = new PGlite();
  await pg.waitReady;
  await migrate(pg);
  t.teardown(() => pg.close());
  const failures: string[] = [];
  // The same PGlite, except that the next transactions fail with the queued SQLSTATEs.
  const runner = {
    query: (sql: string, params?: unknown[]) => pg.query(sql, params),
    transaction: <T>(fn: (tx: unknown) => Promise<T>): Promise<T> => {
      const code = failures.shift();
      if (code) return Promise.reject(Object.assign(new Error(`simulated ${code}`), { code }));
      return pg.transaction(fn as never) as Promise<T>;
    },
  };
  const clock = new FakeClock();
  const alarms = new AlarmLifecycle({ db: runner, clock, logger: quietLogger(), notifier: new RecordingNotifier() });
  const engine = new RuleEngine({ alarms, clock, logger: quietLogger(), rules: RULES, retry: { attempts: 4, initialMs: 5 } });
  await alarms.start();
  await engine.start();
  t.teardown(() => engine.stop());
  t.teardown(() => alarms.stop());

  // An edge alarm the ingest committed; the connection drops twice while it is being taken in.
  const id = randomUUID();
  const at = clock.iso();
  await pg.query(
    `INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, message, tags)
     VALUES ($1, 'site-a', 'edge-1', 'W-1', 'care.sos', 'critical', 'open', $2, $2, 'SOS', '{"resident":"R1"}')`, [id, at]);
  const edgeAlarm = { id, site: 'site-a', edge: 'edge-1', device: 'W-1', type: 'care.sos', severity: 'critical', state: 'open', raisedAt: at, message: 'SOS' } as Alarm;
  failures.push('08006', '40001');
  await engine.onCommitted({ ...emptyCommitted(), alarms: [edgeAlarm] });
  const adopted = (await pg.query<{ adopted: boolean; incident_id: string | null }>('SELECT adopted, incident_id FROM alarms WHERE id = $1', [id])).rows[0];
  t.equal(adopted?.adopted, true, 'taken in after two retries');
  t.ok(adopted?.incident_id, 'with its incident');
  t.match(engine.counters, { retries: 2, errors: 0 });

  // A rule match whose transaction hits a dropped connection is raised on the retry.
  const ev = (device: string): Event => ({ id: randomUUID(), site: 'site-a', edge: 'edge-1', device, kind: 'fire.alarm', severity: 'critical', edgeTime: clock.iso(), tags: { building: 'B1' }, payload: {} });
  await engine.onCommitted({ ...emptyCommitted(), events: [ev('panel-1')] });
  failures.push('57P01');
  const raised = await engine.onCommitted({ ...emptyCommitted(), events: [ev('panel-2')] });
  t.same(raised.map((a) => a.type), ['fire.confirmed'], 'the double knock is raised');
  t.match(engine.counters, { retries: 3, errors: 0 });

  // A failure that would fail again (a constraint) is not retried: counted, logged, the feed goes on.
  failures.push('23514');
  t.same(await engine.onCommitted({ ...emptyCommitted(), events: [ev('panel-3')] }), [], 'nothing raised');
  t.match(engine.counters, { retries: 3, errors: 1 });
  t.same(failures, [], 'every queued failure was met');

  // Retries are bounded: a database that stays away gives up after the attempts.
  failures.push('08006', '08006', '08006', '08006');
  await engine.onCommitted({ ...emptyCommitted(), events: [ev('panel-4')] });
  t.match(engine.counters, { retries: 6, errors: 2 }, 'three retries, then counted as an error');

  // An edge alarm whose taking in failed past its retries is picked up by the lifecycle's sweep.
  // (On the database directly: the queued failures are meant for the engine's attempts.)
  const sweeper = new AlarmLifecycle({ db: pg, logger: quietLogger(), adoptSweepMs: 50 });
  await sweeper.start();
  t.teardown(() => sweeper.stop());
  const late = randomUUID();
  await pg.query(
    `INSERT INTO alarms (id, site, edge, device, type, severity, state, raised_at, last_seen_at, message, tags)
     VALUES ($1, 'site-a', 'edge-1', 'W-2', 'care.fall', 'critical', 'open', now(), now(), 'fall', '{"resident":"R2"}')`, [late]);
  const adoptedNow = async () => (await pg.query<{ adopted: boolean }>('SELECT adopted FROM alarms WHERE id = $1', [late])).rows[0]?.adopted;
  failures.push('08006', '08006', '08006', '08006');
  await engine.onCommitted({ ...emptyCommitted(), alarms: [{ ...edgeAlarm, id: late, device: 'W-2', type: 'care.fall' }] });
  t.match(engine.counters, { errors: 3 }, 'the taking in gave up: the database stayed away');
  await waitFor(adoptedNow, { what: 'the sweep to take the alarm in' });
  t.pass('the sweep took it in');

  // A staff action that loses a deadlock against a timer run is run again, not answered with an error.
  failures.push('40P01');
  t.equal((await alarms.acknowledge(late, admin)).state, 'acknowledged', 'acknowledged on the second try');
  failures.push('23514');
  await t.rejects(alarms.resolve(late, admin, {}), { code: '23514' }, 'other failures are not retried');
  t.same(failures, []);
});
