import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@safe-community/testkit';
import { runCli, EXIT, EdgeAgent, loadEdgeConfig, applyEnv, readConfigFile, readRegistry } from '@safe-community/edge-agent';
import { capture, configDir } from './cli-rig.js';

t.test('provision, list, and drill against a running agent', async (t) => {
  const { dir, config } = await configDir(t, 'cli-');
  const adminPort = await freePort();
  await writeFile(config, [
    'edge: { id: hub-1, site: site-a }',
    `dataDir: ${join(dir, 'data')}`,
    'broker: { port: 0 }',
    `admin: { port: ${adminPort} }`,
    'devices:',
    '  - { id: FP1, kind: fire_panel, profile: fire_panel.nova-json, tags: { building: B1 } }',
    // A camera nobody answers for: listed by the running agent, offline, and no broker credentials to miss.
    'cameras:',
    `  - { id: CAM1, hostname: 127.0.0.1, port: ${await freePort()}, tags: { covers: B1 } }`,
  ].join('\n'));

  let c = capture();
  t.equal(await runCli(['provision', 'device', 'G1', '--kind', 'access_gate', '--profile', 'access_gate.acme-json', '--tag', 'building=B1', '--tag', 'role=evacuation_gate', '--config', config], c.io), EXIT.ok);
  t.match(c.out[0], /device G1 \(access_gate, access_gate\.acme-json\) provisioned/);
  t.match(c.out[1], /^\S{16,}$/, 'the password is printed once, on its own line');

  const firstPassword = c.out[1];

  // Provisioning again never silently undoes an installation (tags put the gate into the fire response).
  const g1 = ['provision', 'device', 'G1', '--kind', 'access_gate', '--profile', 'access_gate.acme-json', '--config', config];
  c = capture();
  t.equal(await runCli(g1, c.io), EXIT.usage, 'an existing device is refused without --force');
  t.match(c.err[0], /ERR_DEVICE_EXISTS: device G1 is already provisioned; add --force/);
  c = capture();
  t.equal(await runCli([...g1, '--force'], c.io), EXIT.ok);
  t.match(c.out[0], /re-provisioned: password rotated.*tags kept \(building=B1 role=evacuation_gate\)/);
  t.not(c.out[1], firstPassword, 'a new password is issued');
  t.same((await readRegistry(join(dir, 'data'))).find((d) => d.id === 'G1')?.tags, { building: 'B1', role: 'evacuation_gate' }, 'tags kept');
  c = capture();
  t.equal(await runCli([...g1, '--force', '--tag', 'building=B1', '--tag', 'role=evacuation_gate', '--tag', 'zone=3'], c.io), EXIT.ok);
  t.match(c.out[0], /tags now building=B1 role=evacuation_gate zone=3/);

  c = capture();
  t.equal(await runCli(['provision', 'device', 'G2', '--kind', 'access_gate', '--profile', 'fire_panel.nova-json', '--config', config], c.io), EXIT.usage, 'a profile of another kind is refused');
  t.match(c.err[0], /--profile must be a access_gate profile: one of .*access_gate\.acme-json/);
  c = capture();
  t.equal(await runCli(['provision', 'device', 'G2', '--kind', 'gate', '--config', config], c.io), EXIT.usage);
  t.match(c.err[0], /--kind must be one of access_gate, car_barrier/);

  c = capture();
  t.equal(await runCli(['devices', '--config', config], c.io), EXIT.ok);
  t.match(c.out.join('\n'), /FP1\tfire_panel\tfire_panel\.nova-json\tMISSING\tagent not running/);
  t.match(c.out.join('\n'), /G1\taccess_gate\taccess_gate\.acme-json\tyes\tagent not running\tbuilding=B1,role=evacuation_gate/);

  c = capture();
  t.equal(await runCli(['drill', '--building', 'B1', '--config', config], c.io), EXIT.unreachable, 'drill needs the running agent');

  // The agent serves config devices plus provisioned ones; the drill sees G1 offline (no device connected).
  const agent = new EdgeAgent({ config: loadEdgeConfig(applyEnv(readConfigFile(config) as Record<string, unknown>, {})) });
  await agent.start();
  t.teardown(() => agent.stop());
  t.ok(agent.devices.get('G1'), 'provisioned device served');
  c = capture();
  t.equal(await runCli(['drill', '--building', 'B1', '--config', config], c.io), EXIT.failed, 'exit 1 when devices are offline');
  const text = c.out.join('\n');
  t.match(text, /G1/);
  t.match(text, /hold_open|hold-open/);
  t.match(text, /offline/i);
  t.same(agent.linkage.stats().executions, 0, 'a drill actuates nothing');

  c = capture();
  t.equal(await runCli(['devices', '--config', config], c.io), EXIT.ok);
  t.match(c.out.join('\n'), /G1\taccess_gate\taccess_gate\.acme-json\tyes\tno/, 'live state from the running agent');
  t.match(c.out.join('\n'), /CAM1\tcamera\tonvif\t-\tno\tcovers=B1/, 'cameras listed with their state, without a credentials column to miss');
});

t.test('bad usage and bad config exit 2 with the key named', async (t) => {
  const { dir, config } = await configDir(t, 'cli-');
  await writeFile(config, 'broker: { port: 70000 }\nmystery: 1\n');
  let c = capture();
  t.equal(await runCli(['devices', '--config', config], c.io), EXIT.usage);
  t.match(c.err[0], /ERR_CONFIG: invalid edge config: .*broker\.port/);
  t.match(c.err[0], /unknown key mystery/);
  c = capture();
  t.equal(await runCli(['frobnicate'], c.io), EXIT.usage);
  t.match(c.err[0], /unknown command "frobnicate"/);
  c = capture();
  t.equal(await runCli(['devices', '--config', join(dir, 'nope.yaml')], c.io), EXIT.usage);
  t.match(c.err[0], /ERR_CONFIG_FILE: cannot read edge config/);
});
