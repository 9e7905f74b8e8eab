/**
 * Simulated fire-alarm panel in two dialects:
 * - `nova-json`: JSON on alarm (`{"type":"ALARM","zone","loop","point","device","time"}`) and ack, commands on command;
 * - `gst-hex`: binary records as hex text on raw (01 alarm, 02 fault, 03 supervisory, 04 restore, 05 reset,
 *   0a ack), commands on raw/in (81 + 16-byte command id = reset).
 */
import { DialectDevice, jsonCommand, type DeviceCommand, type SimulatedDeviceOptions } from './base.js';

export type FirePanelDialect = 'nova-json' | 'gst-hex';
export type DetectorType = 'smoke' | 'heat' | 'manual_call_point';

export interface PointRef {
  zone: number;
  loop: number;
  detector: number;
}

const NOVA_DEVICE: Record<DetectorType, string> = { smoke: 'SMOKE', heat: 'HEAT', manual_call_point: 'MCP' };
const HEX_DEVICE: Record<DetectorType, number> = { smoke: 1, heat: 2, manual_call_point: 3 };
const HEX_FAULT: Record<string, number> = { open_circuit: 1, short_circuit: 2, detector_missing: 3, power: 4 };
const HEX_SUPERVISORY: Record<string, number> = { valve_closed: 1, low_pressure: 2, pump_off: 3 };

function hex(...fields: [number, number][]): string {
  return fields.map(([value, bytes]) => value.toString(16).padStart(bytes * 2, '0')).join('');
}

export class SimulatedFirePanel extends DialectDevice<FirePanelDialect> {
  /** True while any point is in alarm (until reset). */
  inAlarm = false;

  constructor(opts: SimulatedDeviceOptions & { dialect: FirePanelDialect }) {
    super(opts, { 'nova-json': 'command', 'gst-hex': 'raw/in' });
  }

  async raiseAlarm(p: PointRef & { type: DetectorType }): Promise<void> {
    this.inAlarm = true;
    if (this.dialect === 'nova-json') {
      return this.send('alarm', JSON.stringify({ type: 'ALARM', zone: p.zone, loop: p.loop, point: p.detector, device: NOVA_DEVICE[p.type], time: new Date().toISOString() }));
    }
    return this.send('raw', hex([1, 1], [p.zone, 2], [p.loop, 1], [p.detector, 2], [HEX_DEVICE[p.type], 1]));
  }

  async fault(p: PointRef & { fault: 'open_circuit' | 'short_circuit' | 'detector_missing' | 'power' }): Promise<void> {
    if (this.dialect === 'nova-json') {
      return this.send('alarm', JSON.stringify({ type: 'FAULT', zone: p.zone, loop: p.loop, point: p.detector, fault: p.fault, time: new Date().toISOString() }));
    }
    return this.send('raw', hex([2, 1], [p.zone, 2], [p.loop, 1], [p.detector, 2], [HEX_FAULT[p.fault] ?? 1, 1]));
  }

  async supervisory(p: { zone: number; condition: 'valve_closed' | 'low_pressure' | 'pump_off' }): Promise<void> {
    if (this.dialect === 'nova-json') {
      return this.send('alarm', JSON.stringify({ type: 'SUPERVISORY', zone: p.zone, fault: p.condition, time: new Date().toISOString() }));
    }
    return this.send('raw', hex([3, 1], [p.zone, 2], [HEX_SUPERVISORY[p.condition] ?? 1, 1]));
  }

  async restore(p: PointRef): Promise<void> {
    if (this.dialect === 'nova-json') {
      return this.send('alarm', JSON.stringify({ type: 'RESTORE', zone: p.zone, loop: p.loop, point: p.detector, time: new Date().toISOString() }));
    }
    return this.send('raw', hex([4, 1], [p.zone, 2], [p.loop, 1], [p.detector, 2]));
  }

  /** Reset at the panel (a person pressed RESET). */
  async reset(): Promise<void> {
    this.inAlarm = false;
    if (this.dialect === 'nova-json') return this.send('alarm', JSON.stringify({ type: 'RESET', time: new Date().toISOString() }));
    return this.send('raw', hex([5, 1]));
  }

  protected parseCommand(payload: Buffer): DeviceCommand | null {
    const text = payload.toString('utf8');
    if (this.dialect === 'nova-json') return jsonCommand(text, 'ref', 'command');
    if (!/^81[0-9a-f]{32}$/i.test(text)) return null;
    const h = text.slice(2).toLowerCase();
    return { id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, op: 'RESET' };
  }

  protected applyCommand(cmd: DeviceCommand): { suffix: string; payload: string } {
    const ok = cmd.op === 'RESET';
    if (ok) this.inAlarm = false;
    if (this.dialect === 'nova-json') return { suffix: 'ack', payload: JSON.stringify({ ref: cmd.id, status: ok ? 'done' : 'refused' }) };
    return { suffix: 'raw', payload: `0a${cmd.id.replace(/-/g, '')}${ok ? '00' : '01'}` };
  }
}
