/** The edge reports its own health as edge.* telemetry through the outbox, for the cloud's Edge health dashboard. */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validators } from '@safe-community/contracts';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

t.test('a health round appends outbox depth and age, CPU and memory as valid telemetry', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'health-'));
  const agent = new EdgeAgent({
    config: loadEdgeConfig({ edge: { id: 'hub-h', site: 'site-h' }, dataDir: dir, broker: { port: 0 }, admin: { enabled: false } }),
    logger: createLogger({ level: 'error' }),
  });
  await agent.start();
  t.teardown(async () => {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.equal(await agent.healthReport.report(), 4, 'four points without an uplink (no lag to report)');
  const records = await agent.outbox.readFrom(1, 100, 1 << 20);
  const points = records.filter((r) => r.type === 'telemetry').map((r) => (JSON.parse(r.json) as { data: { metric: string; value: number; device: string } }).data);
  t.same(points.map((p) => p.metric).sort(), ['edge.cpu_percent', 'edge.memory_mb', 'edge.outbox_depth', 'edge.outbox_oldest_age_s']);
  t.ok(points.every((p) => p.device === 'hub-h' && validators.telemetry.check({ ...p, site: 'site-h', edge: 'hub-h', time: new Date().toISOString() })), 'valid telemetry of the edge itself');
  t.ok((points.find((p) => p.metric === 'edge.memory_mb')?.value ?? 0) > 10, 'memory is a real figure');
});
