/**
 * `npm run bench -- linkage [alarms]`: 200 simulated devices (gates, barriers, sensors, wearables) with
 * 1,000 msg/s of background telemetry; fire alarms injected one after another (each reset before the next).
 * Measures alarm in → all commands published, alarm in → all read-backs confirmed, and missed actions.
 * Also the agent's broker alone: QoS 1 msg/s from one device against Mosquitto on this machine (127.0.0.1:1883),
 * in the same run. Goals (2-core machine): p99 < 10 ms to commands, < 50 ms to confirmations, 0 missed.
 */
import { FireSite } from './lib/fire-site.js';
import { qos1Rate } from './lib/qos1-rate.js';
import { percentile, round, table } from './lib/stats.js';

const alarms = Number(process.argv[2] ?? 100);
const TELEMETRY_PER_S = 1000;
const site = new FireSite({ gates: 40, barriers: 10, sensors: 100, wearables: 48, extraDevices: [{ id: 'S-rate', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: {} }] });
await site.start();
const devices = site.agent.config.devices.length;

// Background telemetry: 10 messages every 10 ms, round-robin over sensors and wearables.
const talkers = [...site.sensors.map((s) => () => s.reading({ temperature: 21.5, humidity: 44, pm25: 9 })), ...site.wearables.map((w) => () => w.vitals({ hr: 72, spo2: 97, steps: 10 }))];
let next = 0;
let telemetrySent = 0;
const bg = setInterval(() => {
  for (let i = 0; i < TELEMETRY_PER_S / 100; i++) {
    const send = talkers[next++ % talkers.length]!;
    send().then(() => telemetrySent++, () => {});
  }
}, 10);
await new Promise((r) => setTimeout(r, 2000));
const bgStart = telemetrySent;
const bgT0 = performance.now();

const { cmd, conf, missed } = await site.alarms(alarms, 5);
const bgRate = (telemetrySent - bgStart) / ((performance.now() - bgT0) / 1000);
clearInterval(bg);
await new Promise((r) => setTimeout(r, 500));

// Broker alone, QoS 1 from one device, 64 in flight. The agent's broker makes each message durable in the
// outbox (group-committed fsync) before PUBACK; Mosquitto acknowledges from memory.
const { password } = await site.agent.broker.credentials.provision('S-rate');
const payload = JSON.stringify({ data: { t: 215, h: 440 } });
const agentRate = await qos1Rate({ url: `mqtt://127.0.0.1:${site.agent.broker.port}`, username: 'S-rate', password, clientId: 'S-rate', topic: 'devices/S-rate/data', payload, count: 20_000, window: 64 });
let mosquittoRate = NaN;
try {
  mosquittoRate = await qos1Rate({ url: 'mqtt://127.0.0.1:1883', clientId: `bench-${process.pid}`, topic: `bench/${process.pid}/data`, payload, count: 20_000, window: 64 });
} catch (err) {
  console.error(`Mosquitto on 127.0.0.1:1883 not reachable: ${(err as Error).message}`);
}
await site.stop();

console.log(`linkage under load: ${devices} devices, ${Math.round(bgRate)} telemetry msg/s in the background, ${alarms} fire alarms (each → ${40} gates + ${10} barriers)\n`);
console.log(table(['stage', 'p50 ms', 'p99 ms', 'max ms', 'goal'], [
  ['alarm in → all commands published', percentile(cmd, 50), percentile(cmd, 99), Math.max(...cmd), 'p99 < 10'],
  ['alarm in → all read-backs confirmed', percentile(conf, 50), percentile(conf, 99), Math.max(...conf), 'p99 < 50'],
]));
console.log(`\nmissed actions: ${missed} (goal 0)\n`);
console.log(table(['broker, QoS 1, one client, 64 in flight', 'msg/s'], [
  ['edge agent broker (adapter + durable outbox before PUBACK)', Math.round(agentRate)],
  ['Mosquitto 127.0.0.1:1883 (no persistence before PUBACK)', Math.round(mosquittoRate)],
  ['ratio', round(agentRate / mosquittoRate, 3)],
]));
console.log(JSON.stringify({
  bench: 'linkage', devices, alarms, background_msgs_per_s: Math.round(bgRate),
  commands_p50_ms: round(percentile(cmd, 50), 3), commands_p99_ms: round(percentile(cmd, 99), 3),
  confirm_p50_ms: round(percentile(conf, 50), 3), confirm_p99_ms: round(percentile(conf, 99), 3), missed,
  broker_qos1_msgs_per_s: Math.round(agentRate), mosquitto_qos1_msgs_per_s: Math.round(mosquittoRate),
}));
process.exit(0);
