/**
 * Issue 13, edge health tells the truth: with records waiting and no acknowledgement the uplink is reported
 * stalled (degraded, with the reason) and an edge.uplink_stalled alarm is raised; acks close it. The data
 * folder and what the agent writes there are private to its user (0700 / 0600).
 */
import t from 'tap';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestartableBroker, waitFor } from '@safe-community/testkit';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';
import { TestCloud } from './uplink-fixtures.js';

t.test('uplink stalled: degraded with the reason, an edge.uplink_stalled alarm, closed when acks come', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'agent-health-'));
  const broker = new RestartableBroker();
  await broker.start();
  const agent = new EdgeAgent({
    config: loadEdgeConfig({
      edge: { id: 'hub-health', site: 'site-h' }, dataDir: join(dir, 'data'), admin: { enabled: true, port: 0 },
      broker: { port: 0 }, uplink: { url: broker.url, stallAfterSec: 1, ackTimeoutMs: 500 }, healthReportSec: 3600,
    }),
    logger: createLogger({ level: 'silent' }),
  });
  await agent.start();
  const cloud = new TestCloud(broker.url);
  t.teardown(async () => {
    await cloud.stop();
    await agent.stop();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const health = async () => {
    const r = await fetch(`http://127.0.0.1:${agent.admin!.port}/health`);
    return { status: r.status, body: await r.json() as { status: string; parts: Record<string, { state: string; reason?: string }> } };
  };
  // Up once the uplink has connected (before that it says it is reconnecting).
  const first = await waitFor(async () => { const h = await health(); return h.body.status === 'up' ? h : null; }, { what: 'all parts up' });
  t.match(first, { status: 200, body: { parts: { broker: { state: 'up' }, outbox: { state: 'up' }, linkage: { state: 'up' }, uplink: { state: 'up' } } } });

  await agent.outbox.append({ type: 'telemetry', data: { site: 'site-h', edge: 'hub-health', device: 'S1', metric: 'temp.c', value: 21, time: new Date().toISOString() } });
  const stalled = await waitFor(async () => {
    const h = await health();
    return h.body.parts.uplink?.state === 'degraded' && /stalled/.test(h.body.parts.uplink.reason ?? '') ? h : null;
  }, { what: 'uplink reported stalled', timeoutMs: 10_000 });
  t.equal(stalled.status, 200, 'degraded answers 200');
  t.equal(stalled.body.status, 'degraded');
  t.match(stalled.body.parts.uplink!.reason, /1 records? waiting|records waiting/);
  // The alarm is appended as the stall is seen; its write may still be on its way to disk.
  await waitFor(async () => (await agent.outbox.readFrom(1, 100, 1 << 20))
    .some((r) => r.type === 'alarm' && r.json.includes('"edge.uplink_stalled"') && r.json.includes('"open"')), { what: 'stall alarm in the outbox' });
  t.pass('stall alarm in the outbox');

  await cloud.start();
  await waitFor(async () => (await health()).body.parts.uplink?.state === 'up', { what: 'uplink up again', timeoutMs: 15_000 });
  await waitFor(() => [...cloud.state.messages.values()].some((m) => JSON.stringify(m).includes('"edge.uplink_stalled"') && JSON.stringify(m).includes('"resolved"')),
    { what: 'resolved stall alarm delivered', timeoutMs: 15_000 });
  t.pass('stall alarm closed and delivered');

  // The data folder and its files are private to the agent's user.
  const data = join(dir, 'data');
  t.equal((await stat(data)).mode & 0o777, 0o700, 'data folder 0700');
  const bad: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const mode = (await stat(p)).mode & 0o777;
      if (e.isDirectory()) {
        if (mode !== 0o700) bad.push(`${p} ${mode.toString(8)}`);
        await walk(p);
      } else if (mode & 0o077) bad.push(`${p} ${mode.toString(8)}`);
    }
  };
  await walk(data);
  t.same(bad, [], 'no folder or file readable by others');
});
