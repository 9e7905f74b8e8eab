/**
 * Issue 8, done-when, second half: the same simulated day with the cloud unreachable for an hour in the
 * middle (13:30–14:30), which holds R2's fall and her SOS. The edge raises both on time and keeps them in
 * its outbox; on replay the cloud fuses them into one incident and, because nobody has acknowledged them
 * for half an hour, escalates it straight to the level it would have reached: guard team, family and the
 * manager at once. Every other incident is exactly as on a day without the outage.
 */
import t from 'tap';
import { DAY_START, dayScript, runDay } from '@safe-community/simulators';
import { careCloud } from './fixtures/care-cloud.js';
import { EXPECTED_INCIDENTS, checkCareDay, hms } from './fixtures/care-expected.js';

const H = 3_600_000;
const G = 'guard_team:guards-b';
const CALL_ALL = `${G}, family:Li Ming family, manager`;

t.test('cloud down 13:30–14:30: the edge raises, the cloud fuses and escalates on replay (postgres)', async (t) => {
  const sys = await careCloud('postgres');
  t.teardown(() => sys.close());
  const steps = dayScript();
  const play = (from: number, until: number) => runDay({ clock: sys.rig.clock, wearables: sys.rig.wearables, steps, from, until, settle: sys.settle });

  await play(0, 13.5 * H);
  await sys.cloudDown();
  await play(13.5 * H, 14.5 * H);
  const atEdge = sys.rig.sink.alarms().filter((a) => a.tags?.resident === 'R2');
  t.same(atEdge.map((a) => `${hms(a.raisedAt)} ${a.type}`), ['14:01:00 care.fall', '14:03:00 care.sos'], 'the edge raised both on time, offline');
  const inCloud = await sys.alarms.db.query(`SELECT 1 FROM alarms WHERE tags->>'resident' = 'R2'`);
  t.equal(inCloud.rows.length, 0, 'the cloud has heard nothing of them yet');
  t.ok(sys.rig.outbox!.ackedSeq < sys.rig.outbox!.durableSeq, 'they wait in the outbox');

  await sys.cloudUp();
  await sys.settle(); // 14:30:00: the backlog replays
  await play(14.5 * H, 24 * H);
  t.equal(sys.rig.clock.now(), DAY_START + 24 * H);

  await checkCareDay(t, sys, {
    ...EXPECTED_INCIDENTS,
    'R2 care.fall+care.sos critical': [
      '14:01:00 raised care.fall',
      '14:03:00 raised care.sos',
      // Both arrive at 14:30; the fall is 29 minutes old, past both levels (3 and 10 minutes).
      `14:30:00 escalated L2 ${CALL_ALL}`,
      '14:30:00 joined care.sos',
      `14:31:00 notified L2 ${CALL_ALL}`,
      `14:32:00 notified L2 ${CALL_ALL}`,
      `14:33:00 notified L2 ${CALL_ALL}`,
      `14:34:00 notified L2 ${CALL_ALL}`,
      `14:35:00 notified L2 ${CALL_ALL}`,
      '14:35:30 acknowledged care.fall',
      '14:35:30 acknowledged care.sos',
      '14:45:30 resolved care.fall',
      '14:45:30 resolved care.sos',
      '14:45:30 incident closed',
    ],
  });
});
