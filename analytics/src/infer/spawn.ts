/**
 * Starts the inference worker script. The project runs its TypeScript through tsx without a build step, and
 * worker threads do not inherit the parent's loader, so a worker started from a .ts module first registers
 * tsx's ESM hooks inside itself, then imports the worker module.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const self = import.meta.url;
const fromSource = self.endsWith('.ts');
const target = new URL(fromSource ? './worker.ts' : './worker.js', self).href;

function tsxEsmApi(): string {
  const require = createRequire(self);
  return pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
}

let boot: string | undefined;

export function spawnInferenceWorker(workerData: unknown, name: string): Worker {
  if (!fromSource) return new Worker(new URL(target), { workerData, name });
  boot ??= `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true, workerData, name });
}
