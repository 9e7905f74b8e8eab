/**
 * `npm run bench -- path [alarms]`: fire alarm in (simulated panel publishes) → gate commands out of the
 * broker → read-backs confirmed, over a few hundred alarms on a small site (2 gates, 1 barrier).
 * The limit it is compared with: the broker round trip of a bare QoS 1 publish on the same broker.
 */
import mqtt from 'mqtt';
import { FireSite } from './lib/fire-site.js';
import { percentile, round, table } from './lib/stats.js';

const alarms = Number(process.argv[2] ?? 300);
const site = new FireSite({ gates: 2, barriers: 1, sensors: 0, wearables: 0, extraDevices: [{ id: 'S-floor', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: {} }] });
await site.start();

const { cmd, conf, missed } = await site.alarms(alarms, 10);

// The floor: a device's QoS 1 publish → PUBACK through the same broker, which includes the adapter and the
// outbox fsync that every alarm also pays before anything else happens.
const { password } = await site.agent.broker.credentials.provision('S-floor');
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${site.agent.broker.port}`, { username: 'S-floor', password, clientId: 'S-floor', reconnectPeriod: 0 });
const rtt: number[] = [];
for (let i = 0; i < 300; i++) {
  const t0 = performance.now();
  await client.publishAsync('devices/S-floor/data', JSON.stringify({ data: { t: 215 } }), { qos: 1 });
  rtt.push(performance.now() - t0);
}
await client.endAsync();
await site.stop();

const rows = [
  ['alarm in → all commands out', percentile(cmd, 50), percentile(cmd, 99), Math.max(...cmd)],
  ['alarm in → all read-backs', percentile(conf, 50), percentile(conf, 99), Math.max(...conf)],
  ['floor: device QoS 1 publish → PUBACK', percentile(rtt, 50), percentile(rtt, 99), Math.max(...rtt)],
];
console.log(`fire path, ${alarms} alarms, 2 gates + 1 barrier (ms)\n`);
console.log(table(['stage', 'p50', 'p99', 'max'], rows));
console.log(`\nmissed confirmations: ${missed}`);
console.log(JSON.stringify({
  bench: 'path', alarms, commands_p50_ms: round(percentile(cmd, 50), 3), commands_p99_ms: round(percentile(cmd, 99), 3),
  confirm_p50_ms: round(percentile(conf, 50), 3), confirm_p99_ms: round(percentile(conf, 99), 3), missed,
  qos1_rtt_p50_ms: round(percentile(rtt, 50), 3),
}));
process.exit(0);
