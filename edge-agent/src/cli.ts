/**
 * `edge-agent <command>`: the installer's tool and the service entry point.
 *
 *   init                                  write an edge config file from flags or prompts
 *   discover                              ONVIF cameras (WS-Discovery) and MQTT devices the agent sees
 *   doctor                                cameras, model, brokers, disk, clock: is this box ready?
 *   capacity                              how many cameras this box can analyse (measured)
 *   run                                   start the agent (EDGE_CONFIG or --config)
 *   provision device <id> --kind K --profile P [--tag k=v …] [--force]   create credentials, print the password once
 *   devices                               list devices (live state when the agent runs)
 *   drill --building B [--zone Z]         what a fire alarm in B would actuate; nothing is actuated
 *
 * Exit codes: 0 ok, 1 failure, 2 bad usage or configuration, 3 the running agent could not be reached.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DeviceKind } from '@safe-community/contracts';
import { CodedError, errorCode } from '@safe-community/runtime';
import { loadProfiles } from '@safe-community/firmware-configs';
import { Value } from '@sinclair/typebox/value';
import { CredentialStore } from './broker/index.js';
import { EdgeAgent } from './agent.js';
import { EXIT, askAgent, loadConfig, type CliIo } from './cli-common.js';
import { initCommand } from './cli-init.js';
import { discoverCommand } from './cli-discover.js';
import { doctorCommand } from './cli-doctor.js';
import { capacityCommand } from './cli-capacity.js';
import { formatDrill, type DrillReport } from './linkage/index.js';
import { mergeDevices, readRegistry, upsertRegistry } from './registry.js';

export { EXIT, type CliIo } from './cli-common.js';

const USAGE = `usage: edge-agent <command> [options]
  init [--edge ID --site ID --uplink URL --broker-port N --data-dir DIR --cloud URL] [--out FILE] [--force]
  discover [--target ADDR] [--interface ADDR] [--timeout MS] [--config FILE]
  doctor [--image FILE] [--model NAME] [--runs N] [--json] [--config FILE]
  capacity [--video FILE|URL | --camera ID] [--image FILE] [--fps 5] [--motion-skip 0.5] [--json] [--config FILE]
  run [--config FILE]
  provision device <id> --kind KIND --profile PROFILE [--tag key=value …] [--force] [--config FILE]
  devices [--config FILE]
  drill --building B [--zone Z] [--config FILE]`;

/** Codes that mean the command line or the config is wrong (exit 2), not that a check failed. */
const USAGE_CODES = new Set(['ERR_CONFIG', 'ERR_DEVICE_EXISTS', 'ERR_CONFIG_FILE', 'ERR_USAGE', 'ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

/** Each command by its name on the command line. */
const COMMANDS: Readonly<Record<string, Command>> = {
  init: initCommand,
  discover: discoverCommand,
  doctor: doctorCommand,
  capacity: capacityCommand,
  run,
  provision,
  devices,
  drill: drillCommand,
};

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help') {
      io.out(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!handler) {
      io.err(`unknown command "${command}"\n${USAGE}`);
      return EXIT.usage;
    }
    return await handler(rest, io);
  } catch (err) {
    const code = errorCode(err);
    io.err(`${code}: ${(err as Error).message}`);
    return USAGE_CODES.has(code) ? EXIT.usage : EXIT.failed;
  }
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } });
  const agent = new EdgeAgent({ config: loadConfig(values.config, io.env) });
  await agent.start();
  io.out(`edge agent ${agent.config.edge.id} running: device broker ${agent.config.broker.host}:${agent.broker.port}, ${agent.devices.list().length} devices${agent.admin ? `, admin http://${agent.config.admin.host}:${agent.admin.port}` : ''}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('stopping…');
  await agent.stop();
  return EXIT.ok;
}

async function provision(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args], allowPositionals: true,
    options: {
      config: { type: 'string' }, kind: { type: 'string' }, profile: { type: 'string' },
      tag: { type: 'string', multiple: true }, force: { type: 'boolean', default: false },
    },
  });
  const [what, id] = positionals;
  if (what !== 'device' || !id) throw new CodedError('ERR_USAGE', `expected "provision device <id>"\n${USAGE}`);
  if (!values.kind || !Value.Check(DeviceKind, values.kind)) {
    throw new CodedError('ERR_USAGE', `--kind must be one of ${DeviceKind.anyOf.map((k) => k.const).join(', ')} (got ${values.kind ?? 'nothing'})`);
  }
  const profiles = await loadProfiles();
  const profile = values.profile ? profiles.get(values.profile) : undefined;
  if (!profile || profile.kind !== values.kind) {
    const fit = [...profiles.values()].filter((p) => p.kind === values.kind).map((p) => p.id);
    throw new CodedError('ERR_USAGE', `--profile must be a ${values.kind} profile: one of ${fit.join(', ') || '(none)'} (got ${values.profile ?? 'nothing'})`);
  }
  const tags: Record<string, string> = {};
  for (const t of values.tag ?? []) {
    const eq = t.indexOf('=');
    if (eq < 1) throw new CodedError('ERR_USAGE', `--tag must be key=value (got "${t}")`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const cfg = loadConfig(values.config, io.env);
  if (cfg.devices.some((d) => d.id === id)) throw new CodedError('ERR_CONFIG', `device ${id} is already in the config file`);
  const dataDir = resolve(cfg.dataDir);
  const store = new CredentialStore(resolve(dataDir, 'broker'));
  await store.load();
  // Provisioning again must never silently undo an installation: the tags are what puts a gate into the
  // fire response (a re-provisioned gate without them dropped out of it), and the password is what the
  // device in the field logs in with.
  const existing = (await readRegistry(dataDir)).find((d) => d.id === id);
  if ((existing || store.has(id)) && !values.force) {
    throw new CodedError('ERR_DEVICE_EXISTS', `device ${id} is already provisioned; add --force to rotate its password${existing ? ' (its tags are kept unless you give --tag)' : ''}`);
  }
  const keptTags = existing && !values.tag?.length ? existing.tags : tags;
  const { password } = await store.provision(id);
  await upsertRegistry(dataDir, { id, kind: values.kind, profile: profile.id, tags: keptTags });
  if (existing || values.force) {
    const tagNote = existing && !values.tag?.length ? `tags kept (${formatTags(keptTags)})` : `tags now ${formatTags(keptTags)}`;
    io.out(`device ${id} (${values.kind}, ${profile.id}) re-provisioned: password rotated, the old one no longer works; ${tagNote}. New password (shown once):`);
  } else {
    io.out(`device ${id} (${values.kind}, ${profile.id}) provisioned. MQTT username ${id}, client id ${id}, password (shown once):`);
  }
  io.out(password);
  io.out('restart the agent to serve it');
  return EXIT.ok;
}

const formatTags = (tags: Record<string, string>): string =>
  Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';

async function devices(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } });
  const cfg = loadConfig(values.config, io.env);
  const live = await askAgent<Array<{ id: string; kind: string; profile: string; tags: Record<string, string>; online: boolean }>>(cfg, '/devices');
  const dataDir = resolve(cfg.dataDir);
  const list = live ?? mergeDevices(cfg.devices, await readRegistry(dataDir)).map((d) => ({ ...d, online: undefined }));
  const store = new CredentialStore(resolve(dataDir, 'broker'));
  await store.load();
  io.out(['id', 'kind', 'profile', 'credentials', 'online', 'tags'].join('\t'));
  for (const d of list) {
    const online = 'online' in d && typeof d.online === 'boolean' ? (d.online ? 'yes' : 'no') : 'agent not running';
    // Cameras are listed too (their state from ONVIF); they never log in to the device broker.
    const credentials = d.kind === 'camera' ? '-' : store.has(d.id) ? 'yes' : 'MISSING';
    io.out([d.id, d.kind, d.profile, credentials, online, Object.entries(d.tags).map(([k, v]) => `${k}=${v}`).join(',')].join('\t'));
  }
  return EXIT.ok;
}

async function drillCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' }, building: { type: 'string' }, zone: { type: 'string' } } });
  if (!values.building) throw new CodedError('ERR_USAGE', `drill needs --building\n${USAGE}`);
  const cfg = loadConfig(values.config, io.env);
  const query = `/drill?building=${encodeURIComponent(values.building)}${values.zone ? `&zone=${encodeURIComponent(values.zone)}` : ''}`;
  const report = await askAgent<DrillReport>(cfg, query);
  if (!report) {
    io.err(`the agent is not answering on its admin port ${cfg.admin.host}:${cfg.admin.port}; start it (edge-agent run) to drill against live device state`);
    return EXIT.unreachable;
  }
  io.out(formatDrill(report));
  return report.missing.length > 0 || report.offline.length > 0 || (report.errors?.length ?? 0) > 0 ? EXIT.failed : EXIT.ok;
}
