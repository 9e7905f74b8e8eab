/**
 * The whole-agent tests' set-up: an edge agent on a fresh data dir, its device broker on a free port and
 * its admin endpoint off unless the config turns it on, stopped and removed when the test ends; and the
 * login a simulated device needs for that broker.
 */
import { createLogger } from '@safe-community/runtime';
import { tempDir, type Teardown } from '@safe-community/testkit';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';

/** The fire panel and evacuation gate of building B1 that the linkage tests wire together. */
export const FIRE_PANEL = { id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } };
export const EVACUATION_GATE = { id: 'G1', kind: 'access_gate', profile: 'access_gate.acme-json', tags: { building: 'B1', role: 'evacuation_gate' } };

/** Starts an agent whose config is `config` over the test defaults (dataDir, broker.port 0, admin off). */
export async function startAgent(t: Teardown, config: Record<string, unknown>, opts: { logLevel?: string } = {}): Promise<EdgeAgent> {
  const dataDir = await tempDir(t, 'agent-');
  const agent = new EdgeAgent({
    config: loadEdgeConfig({ dataDir, broker: { port: 0 }, admin: { enabled: false }, ...config }),
    logger: createLogger({ level: opts.logLevel ?? 'silent' }),
  });
  await agent.start();
  t.teardown(() => agent.stop());
  return agent;
}

/** The broker URL, id and freshly provisioned password a simulated device logs in with. */
export async function deviceLogin(agent: EdgeAgent, id: string): Promise<{ url: string; id: string; password: string }> {
  const { password } = await agent.broker.credentials.provision(id);
  return { url: `mqtt://127.0.0.1:${agent.broker.port}`, id, password };
}
