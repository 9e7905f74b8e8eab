/**
 * CareMonitor: the elderly-care rules at the edge (issue 8). It listens to the wearables' canonical
 * events and telemetry, runs one ResidentTracker per enrolled resident, keeps a clock timer per resident
 * for the rules that fire on time, and sends alarms (with their companion events) to the UplinkSink. It
 * works with the cloud down, and its state file makes a restart neither forget a pending fall nor raise
 * an alarm twice.
 */
import { validators, type Event, type Telemetry } from '@safe-community/contracts';
import { createLogger, errorCode, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { DeviceDirectory, EventSource, OutboxInput, UplinkSink } from '../ports.js';
import type { Resident, ResidentsFile } from './residents.js';
import { DailyWindow } from './day-night.js';
import { ResidentTracker, type CareOutput } from './tracker.js';
import { CareStateFile, freshResidentState, type CareState } from './state.js';
import { careRecords } from './records.js';

/** Canonical telemetry as decoded (DeviceGateway.onTelemetry). */
export interface TelemetrySource {
  onTelemetry(listener: (point: Telemetry) => void): () => void;
}

export interface CareMonitorOptions {
  site: string;
  edge: string;
  residents: Readonly<ResidentsFile>;
  events: EventSource;
  telemetry: TelemetrySource;
  devices: DeviceDirectory;
  sink: UplinkSink;
  /** Where the monitor keeps its state (JSON, written atomically). */
  stateFile: string;
  clock?: Clock;
  logger?: Logger;
}

export interface CareStats {
  residents: number;
  alarms: number;
  notices: number;
  ignored: number;
  /** Appends that failed and were tried again. */
  sinkRetries: number;
  /** Records given up after SINK_ATTEMPTS failures (each logged whole). */
  sinkErrors: number;
}

interface Slot {
  tracker: ResidentTracker;
  building: string | undefined;
  timer: unknown;
  timerAt: number | undefined;
}

const SINK_ATTEMPTS = 3;
/** Longest single wait: timers are re-armed at least this often, so a long sleep cannot drift. */
const MAX_WAIT_MS = 3_600_000;

export class CareMonitor {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly byWearable = new Map<string, Slot>();
  private readonly listeners = new Set<(out: CareOutput, resident: Resident) => void>();
  private readonly store: CareStateFile;
  private state: CareState = { version: 1, residents: {} };
  private offs: Array<() => void> = [];
  private chain: Promise<void> = Promise.resolve();
  private running = false;
  private saveSeq = 0;
  private readonly counters: CareStats = { residents: 0, alarms: 0, notices: 0, ignored: 0, sinkRetries: 0, sinkErrors: 0 };

  /** Enrolled wearables, from the residents file (not from start(): the linkage asks before care starts). */
  private readonly wearables: ReadonlySet<string>;

  constructor(private readonly opts: CareMonitorOptions) {
    this.wearables = new Set(opts.residents.residents.map((r) => r.wearable));
    this.log = (opts.logger ?? createLogger({ name: 'care' })).child({ part: 'care' });
    this.clock = opts.clock ?? systemClock;
    this.store = new CareStateFile(opts.stateFile, this.log);
  }

  /** True when the device is an enrolled resident's wearable: its SOS is this monitor's to raise (as care.sos). */
  enrolled(device: string): boolean {
    return this.wearables.has(device);
  }

  /** Loads the saved state, builds the trackers, subscribes, and runs the clock rules once (deadlines passed while stopped). */
  async start(): Promise<void> {
    if (this.running) return;
    this.state = await this.store.load();
    const { residents, timeZone, episodeGapS, wandering } = this.opts.residents;
    const now = this.clock.now();
    const kept: CareState['residents'] = {};
    for (const r of residents) {
      const device = this.opts.devices.get(r.wearable);
      if (!device) this.log.warn({ resident: r.id, wearable: r.wearable }, 'wearable not configured on this edge; its resident is watched for silence only');
      const st = this.state.residents[r.id] ?? freshResidentState(now);
      kept[r.id] = st;
      const tracker = new ResidentTracker(r, st, {
        quiet: new DailyWindow(r.quietHours.start, r.quietHours.end, timeZone),
        episodeGapMs: episodeGapS * 1000, wanderCrossings: wandering.crossings, wanderWindowMs: wandering.windowS * 1000,
      });
      this.byWearable.set(r.wearable, { tracker, building: r.building ?? device?.tags.building, timer: undefined, timerAt: undefined });
    }
    // Residents no longer enrolled are dropped with their history: consent ends with enrolment.
    this.state.residents = kept;
    this.counters.residents = residents.length;
    this.running = true;
    this.offs.push(this.opts.events.onEvent((e) => this.onEvent(e)));
    this.offs.push(this.opts.telemetry.onTelemetry((p) => this.onTelemetry(p)));
    for (const slot of this.byWearable.values()) this.apply(slot, slot.tracker.check(now));
    this.persist();
    await this.idle();
  }

  /** Unsubscribes, stops the timers and waits for every record and the state file to be written. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const off of this.offs.splice(0)) off();
    for (const slot of this.byWearable.values()) this.disarm(slot);
    this.persist();
    await this.idle();
    this.byWearable.clear();
  }

  /** Resolves when every decision so far is in the sink and the state is on disk. */
  async idle(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (c === this.chain) return;
    }
  }

  /** In-process listener for each alarm and notice (after it is handed to the sink). */
  onOutput(listener: (out: CareOutput, resident: Resident) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): Readonly<CareStats> {
    return { ...this.counters };
  }

  private onEvent(e: Event): void {
    const slot = this.byWearable.get(e.device);
    if (!slot || !e.kind.startsWith('wearable.')) return;
    if (!validators.event.check(e)) {
      this.counters.ignored++;
      return;
    }
    this.apply(slot, slot.tracker.onEvent(e.kind, e.payload, e.deviceTime, this.clock.now()));
  }

  private onTelemetry(p: Telemetry): void {
    const slot = this.byWearable.get(p.device);
    if (!slot) return;
    if (!Number.isFinite(p.value)) {
      this.counters.ignored++;
      return;
    }
    this.apply(slot, slot.tracker.onTelemetry(p.metric, p.value, p.time, this.clock.now()));
  }

  /**
   * Hands the decisions to the sink in order, then saves the state. The order matters: a crash after the
   * append and before the save re-raises with the same record ids (see records.ts), never loses one.
   */
  private apply(slot: Slot, outs: CareOutput[]): void {
    const t = slot.tracker;
    for (const out of outs) {
      const { event, alarm } = careRecords(t.resident, out, { site: this.opts.site, edge: this.opts.edge, building: slot.building }, t.state.positions);
      if (alarm) this.counters.alarms++;
      else this.counters.notices++;
      this.log.info({ resident: t.resident.id, kind: out.kind, reason: out.reason, episode: out.episode?.id }, out.alarm ? 'care alarm' : 'care notice');
      this.chain = this.chain.then(async () => {
        await this.append({ type: 'event', data: event });
        if (alarm) await this.append({ type: 'alarm', data: alarm });
        for (const l of this.listeners) {
          try {
            l(out, t.resident);
          } catch (err) {
            this.log.error({ err }, 'care listener threw');
          }
        }
      });
    }
    this.persist();
    if (this.running) this.arm(slot);
  }

  /**
   * The event and the alarm are appended separately, each tried a few times: an alarm must not be lost
   * because its companion event was refused. What still fails is logged whole, so an operator can see it.
   */
  private async append(msg: OutboxInput): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.sink.append(msg);
        return;
      } catch (err) {
        if (attempt < SINK_ATTEMPTS) {
          this.counters.sinkRetries++;
          continue;
        }
        this.counters.sinkErrors++;
        this.log.error({ err, code: errorCode(err), record: msg }, 'could not record care output');
        return;
      }
    }
  }

  /**
   * Queues a save of the state as it is now, behind the records already queued, so the saved state never
   * claims an alarm the outbox does not hold. A save overtaken by a newer one before its turn is skipped.
   */
  private persist(): void {
    const snapshot = structuredClone(this.state);
    const seq = ++this.saveSeq;
    this.chain = this.chain.then(() => (seq === this.saveSeq ? this.store.save(snapshot) : undefined));
  }

  private arm(slot: Slot): void {
    const now = this.clock.now();
    const due = slot.tracker.nextDeadline(now);
    const at = due === undefined ? now + MAX_WAIT_MS : Math.min(due, now + MAX_WAIT_MS);
    if (slot.timer !== undefined && slot.timerAt === at) return;
    this.disarm(slot);
    slot.timerAt = at;
    slot.timer = this.clock.setTimeout(() => {
      slot.timer = undefined;
      slot.timerAt = undefined;
      if (!this.running) return;
      this.apply(slot, slot.tracker.check(this.clock.now()));
    }, Math.max(0, at - now));
  }

  private disarm(slot: Slot): void {
    if (slot.timer !== undefined) this.clock.clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.timerAt = undefined;
  }
}
