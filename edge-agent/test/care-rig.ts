/**
 * The care test rig: the real edge broker and DeviceGateway, the simulated day's wearables connected
 * over MQTT with their own credentials, a recording sink, and a CareMonitor on the day's virtual clock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alarm, Event } from '@safe-community/contracts';
import { loadProfiles } from '@safe-community/firmware-configs';
import { createLogger } from '@safe-community/runtime';
import { FakeClock } from '@safe-community/testkit';
import { CareWearable, DAY_RESIDENTS, DAY_START, dayResidents } from '@safe-community/simulators';
import { EdgeBroker } from '../src/broker/index.js';
import { DeviceGateway } from '../src/devices/index.js';
import { CareMonitor, parseResidents } from '../src/care/index.js';
import { Outbox } from '../src/outbox/index.js';
import type { DeviceInfo, OutboxInput, UplinkSink } from '../src/ports.js';

export const logger = createLogger({ level: 'silent' });

/** Records what was appended; with an inner sink (the real outbox), only once that sink accepted it. */
export class RecordingSink implements UplinkSink {
  readonly records: OutboxInput[] = [];
  constructor(private readonly inner?: UplinkSink) {}
  async append(msg: OutboxInput): Promise<number> {
    const seq = this.inner ? await this.inner.append(msg) : this.records.length + 1;
    this.records.push(msg);
    return seq;
  }
  alarms(): Alarm[] {
    return this.records.flatMap((m) => (m.type === 'alarm' ? [m.data] : []));
  }
  events(prefix = 'care.'): Event[] {
    return this.records.flatMap((m) => (m.type === 'event' && m.data.kind.startsWith(prefix) ? [m.data] : []));
  }
}

export interface Rig {
  clock: FakeClock;
  sink: RecordingSink;
  gateway: DeviceGateway;
  wearables: Map<string, CareWearable>;
  stateFile: string;
  outbox: Outbox | undefined;
  monitor: CareMonitor;
  /** Stops the monitor and starts a new one on the same state file (an agent restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function careRig(opts: { outbox?: boolean } = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'care-'));
  const clock = new FakeClock(DAY_START);
  const outbox = opts.outbox ? new Outbox({ dir: join(dir, 'outbox'), site: 'S1', edge: 'E1', logger }) : undefined;
  await outbox?.start();
  const sink = new RecordingSink(outbox);
  const devices: DeviceInfo[] = DAY_RESIDENTS.map((r) => ({
    id: r.wearable, kind: 'wearable', profile: `wearable.${r.dialect}`, tags: { building: 'B', unit: r.unit },
  }));
  const broker = new EdgeBroker({ dataDir: join(dir, 'broker'), port: 0, logger, rateLimit: { perSecond: 1000, burst: 1000 } });
  const gateway = new DeviceGateway({ site: 'S1', edge: 'E1', broker, sink, devices, profiles: await loadProfiles(), logger, clock });
  await gateway.start();
  await broker.start();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const wearables = new Map<string, CareWearable>();
  for (const r of DAY_RESIDENTS) {
    const { password } = await broker.credentials.provision(r.wearable);
    wearables.set(r.wearable, new CareWearable({ url, id: r.wearable, password, dialect: r.dialect, now: () => clock.now() }));
  }
  await Promise.all([...wearables.values()].map((w) => w.start()));
  const residents = parseResidents(dayResidents(), 'day residents');
  const stateFile = join(dir, 'care', 'state.json');
  const make = (): CareMonitor => new CareMonitor({
    site: 'S1', edge: 'E1', residents, events: gateway, telemetry: gateway, devices: gateway, sink, stateFile, clock, logger,
  });
  const rig: Rig = {
    clock, sink, gateway, wearables, stateFile, outbox, monitor: make(),
    async restart() {
      await rig.monitor.stop();
      rig.monitor = make();
      await rig.monitor.start();
    },
    async close() {
      await rig.monitor.stop();
      await Promise.all([...wearables.values()].map((w) => w.stop()));
      await gateway.stop();
      await broker.stop();
      await outbox?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await rig.monitor.start();
  return rig;
}

/** `resident:type` of each alarm, sorted, for comparing whole days. */
export function alarmSummary(alarms: readonly Alarm[]): string[] {
  return alarms.map((a) => `${a.tags?.resident}:${a.type}`).sort();
}
