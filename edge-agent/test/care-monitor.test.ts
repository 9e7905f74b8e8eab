import t from 'tap';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Event, Telemetry } from '@safe-community/contracts';
import { DAY_START, dayResidents } from '@safe-community/simulators';
import { FakeClock } from '@safe-community/testkit';
import { CareMonitor, parseResidents } from '../src/care/index.js';
import type { DeviceDirectory, DeviceInfo, EventSource, OutboxInput, UplinkSink } from '../src/ports.js';
import { logger } from './care-rig.js';

/** The ports, in memory: the monitor is tested alone here; care-day.test.ts runs it behind the real gateway. */
class Ports implements EventSource, DeviceDirectory, UplinkSink {
  readonly records: OutboxInput[] = [];
  failNext = 0;
  private readonly ev = new Set<(e: Event) => void>();
  private readonly tel = new Set<(p: Telemetry) => void>();
  onEvent(l: (e: Event) => void) { this.ev.add(l); return () => this.ev.delete(l); }
  onTelemetry(l: (p: Telemetry) => void) { this.tel.add(l); return () => this.tel.delete(l); }
  list(): DeviceInfo[] { return []; }
  get(id: string): DeviceInfo | undefined { return { id, kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B' } }; }
  online(): boolean { return true; }
  state() { return {}; }
  async append(msg: OutboxInput): Promise<number> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('disk full'), { code: 'ERR_OUTBOX_WRITE' });
    }
    this.records.push(msg);
    return this.records.length;
  }
  event(device: string, kind: string, at: number, payload: Record<string, unknown> = {}) {
    const e: Event = { id: randomUUID(), site: 'S1', edge: 'E1', device, kind, severity: 'critical', edgeTime: new Date(at).toISOString(), payload };
    for (const l of this.ev) l(e);
  }
  point(device: string, metric: string, value: number, at: number) {
    for (const l of this.tel) l({ site: 'S1', edge: 'E1', device, metric, value, time: new Date(at).toISOString() });
  }
  alarms() {
    return this.records.flatMap((m) => (m.type === 'alarm' ? [m.data] : []));
  }
}

const residents = parseResidents(dayResidents());
const H10 = DAY_START + 10 * 3_600_000;

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'care-monitor-'));
  const clock = new FakeClock(H10);
  const ports = new Ports();
  const stateFile = join(dir, 'state.json');
  const make = () => new CareMonitor({ site: 'S1', edge: 'E1', residents, events: ports, telemetry: ports, devices: ports, sink: ports, stateFile, clock, logger });
  let monitor = make();
  t.teardown(async () => {
    await monitor.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await monitor.start();
  return {
    dir, clock, ports, stateFile,
    get monitor() { return monitor; },
    async restart(between?: () => Promise<void>) {
      await monitor.stop();
      await between?.();
      monitor = make();
      await monitor.start();
    },
  };
}

t.test('a fall window that ends while the agent is down raises on start, once', async (t) => {
  const s = await setup(t);
  s.ports.event('W-102', 'wearable.fall', H10);
  await s.monitor.idle();
  t.same(s.ports.alarms(), []);
  await s.restart(() => s.clock.advanceTo(H10 + 5 * 60_000));
  t.same(s.ports.alarms().map((a) => [a.type, a.raisedAt]), [['care.fall', new Date(H10 + 5 * 60_000).toISOString()]]);
  await s.restart();
  await s.clock.advanceTo(H10 + 20 * 60_000, () => s.monitor.idle());
  t.equal(s.ports.alarms().filter((a) => a.type === 'care.fall').length, 1, 'not again after another restart');
});

t.test('a crash between the outbox append and the state save re-sends the same ids', async (t) => {
  const s = await setup(t);
  const saved = join(s.dir, 'before.json');
  await s.monitor.idle();
  await copyFile(s.stateFile, saved);
  s.ports.event('W-101', 'wearable.sos', H10 + 1000);
  await s.monitor.idle();
  const first = s.ports.alarms().filter((a) => a.type === 'care.sos');
  t.equal(first.length, 1);
  // As if the process died after the append: the state on disk is the one from before the SOS, and the
  // device re-sends the SOS (its PUBACK was lost with the process).
  await s.restart(() => copyFile(saved, s.stateFile));
  s.ports.event('W-101', 'wearable.sos', H10 + 1000);
  await s.monitor.idle();
  const both = s.ports.alarms().filter((a) => a.type === 'care.sos');
  t.equal(both.length, 2, 'sent again');
  t.equal(both[1]?.id, both[0]?.id, 'with the same alarm id, so the cloud keeps one');
  t.equal(both[1]?.sourceEventId, both[0]?.sourceEventId);
});

t.test('a failing sink is retried and counted, an alarm outlives its refused event; odd input is ignored', async (t) => {
  const s = await setup(t);
  s.ports.failNext = 1;
  s.ports.event('W-101', 'wearable.sos', H10);
  await s.monitor.idle();
  t.same(s.ports.alarms().map((a) => a.type), ['care.sos'], 'one failed append, then it went through');
  t.match(s.monitor.stats(), { sinkRetries: 1, sinkErrors: 0 });
  s.ports.failNext = 3;
  s.ports.event('W-102', 'wearable.sos', H10);
  await s.monitor.idle();
  t.same(s.ports.alarms().map((a) => a.tags?.resident), ['R1', 'R2'], 'the alarm goes up even though its event was refused three times');
  t.match(s.monitor.stats(), { sinkRetries: 3, sinkErrors: 1 });
  s.ports.event('W-999', 'wearable.sos', H10, {});
  s.ports.point('W-103', 'wearable.heart_rate', Number.NaN, H10);
  s.ports.event('W-103', 'door.forced', H10);
  await s.monitor.idle();
  t.equal(s.monitor.stats().ignored, 1, 'a NaN reading');
  t.equal(s.ports.alarms().length, 2, 'unknown wearables and other kinds are not care input');
});
