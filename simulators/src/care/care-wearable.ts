/**
 * An elderly-care wearable that lives on a virtual clock, in either dialect: `carelink-json` (JSON on
 * alert/vitals, ISO times) or `anxin-delim` (comma records on up, epoch seconds, commands `C,<id>,FIND|HELP`
 * on down, acks `A,<id>,1,<op>`). Payloads are written by hand, as the firmware would; the profiles are
 * never read here, so a passing test shows that a profile matches the wire.
 */
import { SimulatedDevice, type DeviceCommand, type SimulatedDeviceOptions } from '../devices/base.js';
import type { Vitals } from '../devices/wearable.js';

export type CareDialect = 'carelink-json' | 'anxin-delim';

/** The same readings as the plain simulated wearable reports. */
export type CareVitals = Vitals;

export interface Position {
  lat: number;
  lon: number;
}

export interface CareWearableOptions extends SimulatedDeviceOptions {
  dialect: CareDialect;
  /** Device time (the virtual clock of the scripted day); defaults to Date.now. */
  now?: () => number;
}

const num = (v: number | undefined, digits = 0): string => (v === undefined ? '' : v.toFixed(digits));

export class CareWearable extends SimulatedDevice {
  readonly dialect: CareDialect;
  /** Ops received on the down topic (anxin-delim only): FIND buzzes the band, HELP shows "help is coming". */
  readonly ops: string[] = [];
  protected readonly commandSuffix: string | null;
  private readonly now: () => number;

  constructor(opts: CareWearableOptions) {
    super(opts);
    this.dialect = opts.dialect;
    this.now = opts.now ?? Date.now;
    this.commandSuffix = opts.dialect === 'anxin-delim' ? 'down' : null;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private epoch(): number {
    return Math.floor(this.now() / 1000);
  }

  async sos(at?: Position): Promise<void> {
    if (this.dialect === 'carelink-json') return this.send('alert', JSON.stringify({ type: 'sos', ...at, ts: this.iso() }));
    return this.send('up', ['S', this.epoch(), num(at?.lat, 6), num(at?.lon, 6)].join(','));
  }

  async fall(opts: { g?: number } & Partial<Position> = {}): Promise<void> {
    if (this.dialect === 'carelink-json') return this.send('alert', JSON.stringify({ type: 'fall', ...opts, ts: this.iso() }));
    const g10 = opts.g === undefined ? undefined : Math.round(opts.g * 10);
    return this.send('up', ['F', this.epoch(), num(opts.lat, 6), num(opts.lon, 6), num(g10)].join(','));
  }

  /** The resident pressed "I'm OK". */
  async ok(): Promise<void> {
    if (this.dialect === 'carelink-json') return this.send('alert', JSON.stringify({ type: 'ok', ts: this.iso() }));
    return this.send('up', ['K', this.epoch()].join(','));
  }

  /** A periodic report; any subset of fields. It doubles as the heartbeat. */
  async vitals(v: CareVitals): Promise<void> {
    if (this.dialect === 'carelink-json') return this.send('vitals', JSON.stringify({ ...v, ts: this.iso() }));
    return this.send('up', ['V', this.epoch(), num(v.hr), num(v.spo2), num(v.steps), num(v.bat), num(v.lat, 6), num(v.lon, 6)].join(','));
  }

  protected parseCommand(payload: Buffer): DeviceCommand | null {
    const [tag, cid, op, extra] = payload.toString('utf8').split(',');
    return tag === 'C' && cid && op && extra === undefined ? { id: cid, op } : null;
  }

  protected applyCommand(cmd: DeviceCommand): { suffix: string; payload: string } {
    const known = cmd.op === 'FIND' || cmd.op === 'HELP';
    if (known) this.ops.push(cmd.op);
    return { suffix: 'up', payload: ['A', cmd.id, known ? 1 : 0, cmd.op].join(',') };
  }
}
