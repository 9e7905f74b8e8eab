/** Simulated environment sensor, `airsense-json` dialect: nested readings (tenths) on data, alerts on alert. */
import { SimulatedDevice, type DeviceCommand, type SimulatedDeviceOptions } from './base.js';

export class SimulatedEnvSensor extends SimulatedDevice {
  protected readonly commandSuffix = null;

  constructor(opts: SimulatedDeviceOptions & { dialect?: 'airsense-json' }) {
    super(opts);
  }

  async reading(r: { temperature?: number; humidity?: number; pm25?: number; battery?: number }): Promise<void> {
    const data: Record<string, number> = {};
    if (r.temperature !== undefined) data.t = Math.round(r.temperature * 10);
    if (r.humidity !== undefined) data.h = Math.round(r.humidity * 10);
    if (r.pm25 !== undefined) data.pm25 = r.pm25;
    const body: Record<string, unknown> = { data, ts: Math.floor(Date.now() / 1000) };
    if (r.battery !== undefined) body.dev = { bat: r.battery };
    return this.send('data', JSON.stringify(body));
  }

  async leak(on: boolean, probe = 'P1'): Promise<void> {
    return this.send('alert', JSON.stringify({ alert: 'leak', on: on ? 1 : 0, probe, ts: Math.floor(Date.now() / 1000) }));
  }

  async smoke(on: boolean, level?: number): Promise<void> {
    return this.send('alert', JSON.stringify({ alert: 'smoke', on: on ? 1 : 0, ...(level !== undefined ? { level } : {}), ts: Math.floor(Date.now() / 1000) }));
  }

  protected parseCommand(_payload: Buffer): DeviceCommand | null {
    return null;
  }

  protected applyCommand(_cmd: DeviceCommand): null {
    return null;
  }
}
