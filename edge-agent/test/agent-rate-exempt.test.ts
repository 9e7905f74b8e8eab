/** The agent exempts fire panels from the device rate limit: a whole loop going into alarm is delivered, while other devices stay limited. */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@safe-community/testkit';
import { SimulatedEnvSensor, SimulatedFirePanel } from '@safe-community/simulators';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

t.test('a fire panel\'s alarm storm passes a tight rate limit; a sensor over it is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'agent-rate-'));
  const agent = new EdgeAgent({
    config: loadEdgeConfig({
      edge: { id: 'hub-rate', site: 'site-r' }, dataDir: dir, admin: { enabled: false },
      broker: { port: 0, ratePerSecond: 1, rateBurst: 2 },
      devices: [
        { id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } },
        { id: 'S1', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: { building: 'B1' } },
      ],
    }),
    logger: createLogger({ level: 'silent' }),
  });
  await agent.start();
  const url = `mqtt://127.0.0.1:${agent.broker.port}`;
  const panel = new SimulatedFirePanel({ url, id: 'FP1', password: (await agent.broker.credentials.provision('FP1')).password, dialect: 'nova-json' });
  const sensor = new SimulatedEnvSensor({ url, id: 'S1', password: (await agent.broker.credentials.provision('S1')).password });
  await panel.start();
  await sensor.start();
  t.teardown(async () => {
    await panel.stop();
    await sensor.stop();
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const refused: string[] = [];
  agent.broker.deadLetters.onRecord((r) => refused.push(`${r.device}:${r.reason}`));
  for (let detector = 1; detector <= 12; detector++) await panel.raiseAlarm({ zone: 3, loop: 1, detector, type: 'smoke' });
  for (let i = 0; i < 5; i++) await sensor.reading({ temperature: 21, humidity: 40, pm25: 10 });
  const alarms = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 22);
    const n = records.filter((r) => r.type === 'event' && r.json.includes('"fire.alarm"')).length;
    return n >= 12 ? n : null;
  }, { what: 'twelve fire.alarm events in the outbox' });
  t.equal(alarms, 12, 'every detector of the loop reached the outbox');
  t.notOk(refused.some((r) => r.startsWith('FP1:')), 'nothing from the panel was refused');
  t.ok(refused.filter((r) => r === 'S1:ERR_RATE_LIMITED').length >= 2, 'the sensor over its rate is refused');
});
