/**
 * The simulators as a service (docker compose --profile demo): connects the devices listed in SIM_DEVICES to
 * the edge agent's device broker at MQTT_URL and keeps them talking: sensors and wearables report every
 * 10 s, gates and barriers answer commands in their dialect. Passwords come from
 * `edge-agent provision device …`; the file is JSON: [{ "id", "kind", "dialect", "password" }].
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@safe-community/runtime';
import { SimulatedBarrier, SimulatedEnvSensor, SimulatedFirePanel, SimulatedGate, SimulatedWearable, type SimulatedDevice } from './index.js';

interface Entry { id: string; kind: string; dialect?: string; password: string }

const log = createLogger({ name: 'simulators' });
const url = process.env.MQTT_URL;
const file = process.env.SIM_DEVICES;
if (!url || !file) {
  log.error('MQTT_URL (the edge agent\'s device broker) and SIM_DEVICES (a JSON list of provisioned devices) must be set');
  process.exit(2);
}
let entries: Entry[];
try {
  entries = JSON.parse(readFileSync(file, 'utf8')) as Entry[];
  if (!Array.isArray(entries)) throw new Error('not a JSON array');
} catch (err) {
  log.error({ err }, `SIM_DEVICES ${file} is not a JSON list of { id, kind, dialect, password }`);
  process.exit(2);
}

const devices: SimulatedDevice[] = [];
const reporters: Array<() => Promise<void>> = [];
for (const e of entries) {
  const base = { url, id: e.id, password: e.password, persistentSession: true };
  switch (e.kind) {
    case 'fire_panel':
      devices.push(new SimulatedFirePanel({ ...base, dialect: e.dialect === 'gst-hex' ? 'gst-hex' : 'nova-json' }));
      break;
    case 'access_gate':
      devices.push(new SimulatedGate({ ...base, dialect: e.dialect === 'keyway-delim' ? 'keyway-delim' : 'acme-json' }));
      break;
    case 'car_barrier':
      devices.push(new SimulatedBarrier(base));
      break;
    case 'env_sensor': {
      const s = new SimulatedEnvSensor(base);
      devices.push(s);
      reporters.push(() => s.reading({ temperature: 20 + Math.random() * 4, humidity: 40 + Math.random() * 10, pm25: 8 + Math.random() * 10 }));
      break;
    }
    case 'wearable': {
      const w = new SimulatedWearable(base);
      devices.push(w);
      reporters.push(() => w.vitals({ hr: 65 + Math.round(Math.random() * 15), spo2: 96 + Math.round(Math.random() * 3), steps: Math.round(Math.random() * 50), bat: 80 }));
      break;
    }
    default:
      log.warn({ device: e.id, kind: e.kind }, 'unknown kind; skipped');
  }
}
for (const d of devices) await d.start();
log.info({ devices: devices.length }, 'simulated devices connected');
const timer = setInterval(() => {
  for (const r of reporters) r().catch((err: unknown) => log.warn({ err }, 'report failed'));
}, 10_000);
const stop = async (): Promise<void> => {
  clearInterval(timer);
  for (const d of devices) await d.stop().catch(() => {});
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
