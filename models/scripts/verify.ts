/**
 * Checks every model and labels file named by a manifest in MODELS_DIR: present, right size, right sha256.
 * Exit code 0 when all pass, 1 otherwise. Usage: `npx tsx models/scripts/verify.ts` (MODELS_DIR optional).
 */
import { join } from 'node:path';
import { errorCode } from '@safe-community/runtime';
import { listManifests, readVerified, resolveModelsDir } from '../src/index.js';

const dir = resolveModelsDir();
let failed = 0;
console.log(`models in ${dir}`);
for (const m of await listManifests()) {
  const files: Array<[string, string]> = [[m.file, m.sha256]];
  if (m.labels) files.push([m.labels.file, m.labels.sha256]);
  for (const [file, sha] of files) {
    try {
      const bytes = await readVerified(join(dir, file), sha);
      console.log(`ok    ${m.id.padEnd(24)} ${file} (${bytes.length} B)`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${m.id.padEnd(24)} ${file}: ${errorCode(err)} ${(err as Error).message}`);
    }
  }
}
process.exitCode = failed ? 1 : 0;
