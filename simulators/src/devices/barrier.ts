/** Simulated car barrier, `parkline-json` dialect: JSON on evt and ack (epoch ms), commands `{"id","do"}` on ctl. */
import { SimulatedDevice, jsonCommand, type DeviceCommand, type SimulatedDeviceOptions } from './base.js';

export type BarrierState = 'lowered' | 'raised' | 'held_raised';
const OPS: Record<string, BarrierState> = { up: 'raised', down: 'lowered', hold_up: 'held_raised', auto: 'lowered' };
const POS: Record<BarrierState, string> = { lowered: 'down', raised: 'up', held_raised: 'hold_up' };

export class SimulatedBarrier extends SimulatedDevice {
  state: BarrierState = 'lowered';
  protected readonly commandSuffix = 'ctl';

  constructor(opts: SimulatedDeviceOptions & { dialect?: 'parkline-json'; lane?: string }) {
    super(opts);
    this.lane = opts.lane ?? 'lane1';
  }

  private readonly lane: string;

  async arrive(opts: { plate?: string; confidence?: number }): Promise<void> {
    const body: Record<string, unknown> = { e: 'arrive', lane: this.lane, t: Date.now() };
    if (opts.plate !== undefined) body.plate = opts.plate;
    if (opts.confidence !== undefined) body.conf = opts.confidence;
    return this.send('evt', JSON.stringify(body));
  }

  async passed(plate?: string): Promise<void> {
    return this.send('evt', JSON.stringify({ e: 'pass', lane: this.lane, t: Date.now(), ...(plate ? { plate } : {}) }));
  }

  /** The barrier arm moved on its own (loop detector, local button). */
  async moved(to: 'raised' | 'lowered'): Promise<void> {
    this.state = to;
    return this.send('evt', JSON.stringify({ e: to === 'raised' ? 'up' : 'down', t: Date.now() }));
  }

  protected parseCommand(payload: Buffer): DeviceCommand | null {
    return jsonCommand(payload.toString('utf8'), 'id', 'do');
  }

  protected applyCommand(cmd: DeviceCommand): { suffix: string; payload: string } {
    const next = Object.hasOwn(OPS, cmd.op) ? OPS[cmd.op] : undefined;
    if (next) this.state = next;
    const body: Record<string, unknown> = { id: cmd.id, ok: next !== undefined, pos: POS[this.state] };
    if (!next) body.err = `unknown command ${cmd.op}`;
    return { suffix: 'ack', payload: JSON.stringify(body) };
  }
}
