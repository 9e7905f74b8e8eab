/**
 * The overflow rule: above the thinning mark telemetry is downsampled per (device, metric), at capacity it
 * is dropped, and events, alarms, command results and linkage records are always kept; the high-water
 * alarm fires once when the outbox passes 80 % and re-arms after it drains.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@safe-community/runtime';
import { validators, type Alarm } from '@safe-community/contracts';
import { Outbox, CapacityRule } from '../src/outbox/index.js';
import type { OutboxInput } from '../src/ports.js';

const log = createLogger({ level: 'silent' });
const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const telemetry = (device: string, metric: string, atMs: number): OutboxInput => ({
  type: 'telemetry', data: { site: 's1', edge: 'e1', device, metric, value: 21.5, time: new Date(atMs).toISOString() },
});
const event = (i: number): OutboxInput => ({
  type: 'event',
  data: { id: randomUUID(), site: 's1', edge: 'e1', device: 'fp1', kind: 'fire.alarm', severity: 'critical', edgeTime: new Date(T0 + i).toISOString(), payload: { i } },
});
const alarm = (): OutboxInput => ({
  type: 'alarm',
  data: { id: randomUUID(), site: 's1', device: 'fp1', type: 'fire', severity: 'critical', state: 'open', raisedAt: new Date(T0).toISOString(), count: 1, message: 'fire' },
});

t.test('rule: keep below the mark, downsample above it, drop at capacity, never thin non-telemetry', async (t) => {
  const rule = new CapacityRule({ maxBytes: 1000, thinAt: 0.9, thinIntervalMs: 60_000 });
  const tel = telemetry('env1', 'temp', T0).data;
  t.equal(rule.judge('telemetry', tel, 500, 0), 'keep', 'below 90 %: kept');
  t.equal(rule.judge('telemetry', tel, 950, 0), 'keep', 'first point of a key in the thin zone: kept');
  t.equal(rule.judge('telemetry', telemetry('env1', 'temp', T0 + 30_000).data, 950, 0), 'thin', '30 s later, same key: thinned');
  t.equal(rule.judge('telemetry', telemetry('env1', 'hum', T0 + 30_000).data, 950, 0), 'keep', 'another metric: kept');
  t.equal(rule.judge('telemetry', telemetry('env1', 'temp', T0 + 60_000).data, 950, 0), 'keep', '60 s later: kept');
  t.equal(rule.judge('telemetry', telemetry('env2', 'temp', T0).data, 1000, 0), 'thin', 'at capacity: all telemetry dropped');
  for (const type of ['event', 'alarm', 'command_result', 'linkage', 'status'] as const) {
    t.equal(rule.judge(type, {}, 5000, 0), 'keep', `${type} kept even far above capacity`);
  }
  t.equal(rule.crossedHighWater(700), false);
  t.equal(rule.crossedHighWater(800), true, 'fires at 80 %');
  t.equal(rule.crossedHighWater(900), false, 'once');
  t.equal(rule.crossedHighWater(750), false, 'not re-armed above 70 %');
  t.equal(rule.crossedHighWater(600), false);
  t.equal(rule.crossedHighWater(850), true, 're-armed after falling below 70 %');
});

t.test('outbox under pressure: telemetry thinned and counted, events and alarms never, alarm raised', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-cap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const alarms: Alarm[] = [];
  const o = new Outbox({
    dir, edge: 'e1', site: 's1', logger: log, segmentBytes: 8 * 1024,
    capacity: { maxBytes: 40_000, thinIntervalMs: 60_000 },
    onHighWater: (a) => alarms.push(a),
  });
  await o.start();
  t.teardown(() => o.stop());

  let telKept = 0;
  let telThinned = 0;
  let eventsKept = 0;
  // Two telemetry points a second from 5 sensors, an event every 10th step: far more than 40 kB.
  for (let i = 0; i < 1500; i++) {
    for (let d = 0; d < 5; d++) {
      const seq = await o.append(telemetry(`env${d}`, 'temp', T0 + i * 500));
      if (seq > 0) telKept++;
      else telThinned++;
    }
    if (i % 10 === 0 && (await o.append(event(i))) > 0) eventsKept++;
  }
  const a1 = await o.append(alarm());
  const s = o.stats();
  t.equal(eventsKept, 150, 'every event kept');
  t.ok(a1 > 0, 'an alarm is kept above capacity');
  t.ok(s.bytes > 40_000, `events pushed the outbox past its soft capacity (${s.bytes} B)`);
  t.equal(s.thinned, telThinned, 'thinned records are counted');
  t.ok(telThinned > 5000, `telemetry was thinned (${telThinned} of ${telKept + telThinned})`);
  t.equal(s.lastSeq, telKept + eventsKept + 1, 'thinned records take no seq: the sequence has no gaps');
  t.equal(alarms.length, 1, 'one high-water alarm');
  t.equal(alarms[0]?.type, 'outbox.high_water');
  t.ok(validators.alarm.check(alarms[0]), 'the alarm is a valid canonical Alarm');

  // Drained by the cloud: telemetry flows again and the alarm re-arms.
  await o.ackUpTo(s.lastSeq);
  t.equal(o.stats().bytes, 0);
  t.ok((await o.append(telemetry('env0', 'temp', T0 + 10_000_000))) > 0, 'telemetry kept again after the drain');
});
