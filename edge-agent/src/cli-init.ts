/**
 * `edge-agent init`: writes a first edge config file. Values come from flags; on a terminal, missing ones
 * are asked for (with the schema's default offered). The result is validated with loadEdgeConfig before a
 * byte is written, so a file `init` writes always loads, and an existing file is never replaced without
 * --force (it may hold provisioned cameras and passwords).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { CodedError } from '@safe-community/runtime';
import { EXIT, numberFlag, type CliIo } from './cli-common.js';
import { loadEdgeConfig } from './config.js';

interface Field {
  flag: 'edge' | 'site' | 'uplink' | 'broker-port' | 'data-dir' | 'cloud';
  question: string;
  fallback: string;
}

const FIELDS: readonly Field[] = [
  { flag: 'edge', question: 'edge id (this hub, e.g. bldg3-hub)', fallback: 'edge-1' },
  { flag: 'site', question: 'site id (the community)', fallback: 'site-1' },
  { flag: 'uplink', question: 'cloud broker URL (mqtt://host:1883, empty for none yet)', fallback: '' },
  { flag: 'cloud', question: 'cloud ingest HTTP URL (for the clock check, empty for none)', fallback: '' },
  { flag: 'broker-port', question: 'device broker port', fallback: '1884' },
  { flag: 'data-dir', question: 'data folder (outbox, credentials)', fallback: '/var/lib/edge-agent' },
];

export async function initCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      edge: { type: 'string' }, site: { type: 'string' }, uplink: { type: 'string' }, cloud: { type: 'string' },
      'broker-port': { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' },
    },
  });
  const out = resolve(values.out ?? io.env.EDGE_CONFIG ?? 'edge.yaml');
  const canAsk = io.interactive ?? (io.prompt !== undefined || process.stdin.isTTY === true);
  const answers: Partial<Record<Field['flag'], string>> = {};
  let prompter: { ask: NonNullable<CliIo['prompt']>; close(): void } | undefined;
  try {
    for (const f of FIELDS) {
      const given = values[f.flag];
      if (given !== undefined) {
        answers[f.flag] = given;
      } else if (canAsk) {
        prompter ??= io.prompt ? { ask: io.prompt, close: () => {} } : openTerminal();
        answers[f.flag] = (await prompter.ask(f.question, f.fallback)).trim() || f.fallback;
      } else if (f.flag === 'edge' || f.flag === 'site') {
        throw new CodedError('ERR_USAGE', `init needs --${f.flag} (stdin is not a terminal, so nothing is asked)`);
      }
    }
  } finally {
    prompter?.close();
  }

  const raw: Record<string, unknown> = { edge: { id: answers.edge, site: answers.site } };
  if (answers['data-dir']) raw.dataDir = answers['data-dir'];
  const port = numberFlag(answers['broker-port'], 'broker-port');
  if (port !== undefined) raw.broker = { port };
  if (answers.uplink) raw.uplink = { url: answers.uplink };
  if (answers.cloud) raw.cloud = { url: answers.cloud };
  raw.cameras = [];
  raw.devices = [];
  // Validation errors name the key (ERR_CONFIG → exit 2), and nothing is written.
  const cfg = loadEdgeConfig(raw);

  const text = `# edge agent configuration, written by edge-agent init; full key list in docs/installer-guide.md\n${stringify(raw)}`;
  try {
    // 'wx' fails when the file exists, without a window between a check and the write; 0600 because
    // the file will carry camera and uplink passwords.
    await writeFile(out, text, { flag: values.force ? 'w' : 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      io.err(`ERR_INIT_EXISTS: ${out} exists; pass --force to replace it`);
      return EXIT.failed;
    }
    throw new CodedError('ERR_INIT_WRITE', `cannot write ${out}: ${(err as Error).message}`, { cause: err });
  }
  io.out(`wrote ${out}: edge ${cfg.edge.id} at site ${cfg.edge.site}, device broker port ${cfg.broker.port}, uplink ${cfg.uplink.url ? 'set' : 'not set'}`);
  io.out(`next: edge-agent discover --config ${out}, then edge-agent doctor --config ${out}`);
  return EXIT.ok;
}

/** One readline for all the questions, closed after the last so the process can exit. */
function openTerminal(): { ask: NonNullable<CliIo['prompt']>; close(): void } {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  return {
    ask: (q, def) => rl.question(`${q}${def ? ` [${def}]` : ''}: `),
    close: () => rl.close(),
  };
}
