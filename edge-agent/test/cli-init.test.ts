import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, EXIT, loadEdgeConfig, readConfigFile } from '@safe-community/edge-agent';
import { tempDir } from '@safe-community/testkit';
import { capture } from './cli-rig.js';

t.test('init writes a config from flags that loads, and refuses to overwrite', async (t) => {
  const dir = await tempDir(t, 'init-');
  const file = join(dir, 'edge.yaml');
  const flags = ['--edge', 'bldg3-hub', '--site', 'garden-court', '--uplink', 'mqtt://cloud.example:1883', '--broker-port', '1890',
    '--data-dir', join(dir, 'data'), '--cloud', 'https://cloud.example', '--out', file];

  let c = capture();
  t.equal(await runCli(['init', ...flags], c.io), EXIT.ok, c.err.join('\n'));
  t.match(c.out[0], /wrote .*edge\.yaml: edge bldg3-hub at site garden-court, device broker port 1890, uplink set/);
  const cfg = loadEdgeConfig(readConfigFile(file));
  t.same(cfg.edge, { id: 'bldg3-hub', site: 'garden-court' });
  t.equal(cfg.broker.port, 1890);
  t.equal(cfg.uplink.url, 'mqtt://cloud.example:1883');
  t.equal(cfg.cloud.url, 'https://cloud.example');
  t.equal(cfg.dataDir, join(dir, 'data'));
  t.same(cfg.cameras, []);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'only the owner reads it (it will hold passwords)');

  c = capture();
  t.equal(await runCli(['init', ...flags.map((f) => (f === 'bldg3-hub' ? 'other' : f))], c.io), EXIT.failed, 'an existing file is kept');
  t.match(c.err[0], /ERR_INIT_EXISTS: .*edge\.yaml exists; pass --force/);
  t.equal(loadEdgeConfig(readConfigFile(file)).edge.id, 'bldg3-hub', 'file unchanged');

  c = capture();
  t.equal(await runCli(['init', ...flags.map((f) => (f === 'bldg3-hub' ? 'other' : f)), '--force'], c.io), EXIT.ok);
  t.equal(loadEdgeConfig(readConfigFile(file)).edge.id, 'other', '--force replaces it');
});

t.test('init validates before writing: bad values exit 2 and write nothing', async (t) => {
  const dir = await tempDir(t, 'init-');
  const file = join(dir, 'edge.yaml');
  let c = capture();
  t.equal(await runCli(['init', '--edge', 'e1', '--site', 's1', '--broker-port', '70000', '--out', file], c.io), EXIT.usage);
  t.match(c.err[0], /ERR_CONFIG: invalid edge config: broker\.port/);
  await t.rejects(stat(file), { code: 'ENOENT' }, 'nothing written');

  c = capture();
  t.equal(await runCli(['init', '--edge', 'has space', '--site', 's1', '--out', file], c.io), EXIT.usage);
  t.match(c.err[0], /edge\.id/);

  c = capture();
  t.equal(await runCli(['init', '--site', 's1', '--out', file], c.io), EXIT.usage, 'no terminal: missing --edge is a usage error, not a hang');
  t.match(c.err[0], /init needs --edge/);

  c = capture();
  t.equal(await runCli(['init', '--edge', 'e1', '--site', 's1', '--broker-port', 'many', '--out', file], c.io), EXIT.usage);
  t.match(c.err[0], /--broker-port must be a number/);
});

t.test('init asks for what the flags leave out, offering defaults', async (t) => {
  const dir = await tempDir(t, 'init-');
  const file = join(dir, 'edge.yaml');
  const asked: string[] = [];
  const answers: Record<string, string> = { 'edge id': 'hub-7', 'site id': 'river-park', 'device broker port': '', 'data folder': join(dir, 'd') };
  const c = capture({
    interactive: true,
    prompt: async (q, def) => {
      asked.push(`${q} [${def ?? ''}]`);
      const key = Object.keys(answers).find((k) => q.startsWith(k));
      return key ? answers[key]! : '';
    },
  });
  t.equal(await runCli(['init', '--uplink', 'mqtt://10.0.0.5:1883', '--out', file], c.io), EXIT.ok, c.err.join('\n'));
  t.notOk(asked.some((q) => q.startsWith('cloud broker URL')), 'a value given as a flag is not asked');
  t.ok(asked.some((q) => q.startsWith('device broker port') && q.endsWith('[1884]')), 'the default is offered');
  const cfg = loadEdgeConfig(readConfigFile(file));
  t.same(cfg.edge, { id: 'hub-7', site: 'river-park' });
  t.equal(cfg.broker.port, 1884, 'an empty answer takes the default');
  t.equal(cfg.uplink.url, 'mqtt://10.0.0.5:1883');
  t.equal(cfg.cloud.url, null, 'an empty optional answer leaves it unset');
  t.match(await readFile(file, 'utf8'), /^# edge agent configuration/);
});
