/**
 * The agent wires elderly care when a residents file is configured: an SOS from an enrolled resident's
 * wearable becomes one care.sos alarm in the outbox (the built-in wearable-sos rule yields to the care
 * monitor), while a wearable nobody is enrolled with still gets the built-in wearable.sos alarm.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@safe-community/testkit';
import { SimulatedWearable } from '@safe-community/simulators';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

t.test('care monitor runs inside the agent', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'agent-care-'));
  const agent = new EdgeAgent({
    config: loadEdgeConfig({
      edge: { id: 'hub-care', site: 'site-c' }, dataDir: dir, broker: { port: 0 }, admin: { enabled: false },
      care: { residentsFile: fileURLToPath(new URL('../src/care/residents.example.yaml', import.meta.url)) },
      devices: [
        { id: 'W-1702', kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B' } },
        { id: 'W-9000', kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B' } },
      ],
    }),
    logger: createLogger({ level: 'error' }),
  });
  await agent.start();
  const { password } = await agent.broker.credentials.provision('W-1702');
  const band = new SimulatedWearable({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'W-1702', password });
  await band.start();
  const spare = new SimulatedWearable({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'W-9000', password: (await agent.broker.credentials.provision('W-9000')).password });
  await spare.start();
  t.teardown(async () => {
    await band.stop();
    await spare.stop();
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.ok(agent.care, 'care part started');
  t.ok(agent.care!.stats().residents >= 1, 'residents loaded');
  await band.sos({ lat: 31.2304, lon: 121.4737 });
  const alarm = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    return records.filter((r) => r.type === 'alarm').map((r) => JSON.parse(r.json) as { data: { type?: string; tags?: Record<string, string> } })
      .find((r) => r.data.type === 'care.sos');
  }, { what: 'care.sos alarm in the outbox' });
  t.equal(alarm.data.tags?.resident, 'R-1702', 'the alarm names the resident');

  await spare.sos({ lat: 31.2304, lon: 121.4737 });
  const alarms = await waitFor(async () => {
    const records = await agent.outbox.readFrom(1, 1000, 1 << 20);
    const all = records.filter((r) => r.type === 'alarm').map((r) => JSON.parse(r.json) as { data: { type: string; device: string } }).map((r) => r.data);
    return all.some((a) => a.device === 'W-9000') ? all : null;
  }, { what: 'the unenrolled wearable\'s alarm' });
  t.same(alarms.filter((a) => a.device === 'W-1702' && a.type.endsWith('.sos')).map((a) => a.type), ['care.sos'], 'one alarm for the enrolled resident: no wearable.sos beside care.sos');
  t.same(alarms.filter((a) => a.device === 'W-9000').map((a) => a.type), ['wearable.sos'], 'a wearable without a resident keeps the built-in SOS rule');
});
