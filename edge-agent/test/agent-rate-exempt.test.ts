/** The agent exempts fire panels from the device rate limit: a whole loop going into alarm is delivered, while other devices stay limited. */
import t from 'tap';
import { startParts, waitFor } from '@safe-community/testkit';
import { SimulatedEnvSensor, SimulatedFirePanel } from '@safe-community/simulators';
import { FIRE_PANEL, deviceLogin, startAgent } from './agent-rig.js';

t.test('a fire panel\'s alarm storm passes a tight rate limit; a sensor over it is refused', async (t) => {
  const agent = await startAgent(t, {
    edge: { id: 'hub-rate', site: 'site-r' },
    broker: { port: 0, ratePerSecond: 1, rateBurst: 2 },
    devices: [FIRE_PANEL, { id: 'S1', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: { building: 'B1' } }],
  });
  const [panel, sensor] = await startParts(t,
    new SimulatedFirePanel({ ...await deviceLogin(agent, 'FP1'), dialect: 'nova-json' }),
    new SimulatedEnvSensor(await deviceLogin(agent, 'S1')));
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
