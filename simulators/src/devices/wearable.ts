/** Simulated elderly-care wearable, `carelink-json` dialect: alerts on alert, vital signs on vitals. */
import { SimulatedDevice, type DeviceCommand, type SimulatedDeviceOptions } from './base.js';

export interface Vitals {
  hr?: number;
  spo2?: number;
  steps?: number;
  bat?: number;
  lat?: number;
  lon?: number;
}

export class SimulatedWearable extends SimulatedDevice {
  protected readonly commandSuffix = null;

  constructor(opts: SimulatedDeviceOptions & { dialect?: 'carelink-json' }) {
    super(opts);
  }

  async sos(at?: { lat: number; lon: number }): Promise<void> {
    return this.send('alert', JSON.stringify({ type: 'sos', ...at, ts: new Date().toISOString() }));
  }

  async fall(opts: { g?: number; lat?: number; lon?: number } = {}): Promise<void> {
    return this.send('alert', JSON.stringify({ type: 'fall', ...opts, ts: new Date().toISOString() }));
  }

  async vitals(v: Vitals): Promise<void> {
    return this.send('vitals', JSON.stringify({ ...v, ts: new Date().toISOString() }));
  }

  protected parseCommand(_payload: Buffer): DeviceCommand | null {
    return null;
  }

  protected applyCommand(_cmd: DeviceCommand): null {
    return null;
  }
}
