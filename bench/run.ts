/**
 * `npm run bench -- NAME [args…]` runs bench/NAME.ts in its own process and passes its output through.
 * Every benchmark prints a readable table and, as its last line, one JSON object with its figures;
 * this runner checks that last line so a broken benchmark cannot pass as a result.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- NAME   (NAME one of: ${available.join(', ')})`);
  process.exit(2);
}

const child = spawn(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...args], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NODE_ENV: 'production' },
});
let lastLine = '';
let buffered = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const l of lines) if (l.trim()) lastLine = l.trim();
});
child.on('close', (code) => {
  if (buffered.trim()) lastLine = buffered.trim();
  if (code !== 0) process.exit(code ?? 1);
  try {
    const figures: unknown = JSON.parse(lastLine);
    if (!figures || typeof figures !== 'object') throw new Error('not an object');
  } catch {
    console.error(`bench ${name}: the last line of output is not one JSON object`);
    process.exit(1);
  }
});
