/** Writes the generated files under a repository root and removes generated dashboards that no longer exist. */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_OPTIONS, type BoardOptions } from './boards/common.js';
import { GENERATED_DIR, generatedFiles } from './catalog.js';

export interface WriteResult {
  written: string[];
  removed: string[];
}

export async function writeGenerated(root: string, opts: BoardOptions = DEFAULT_OPTIONS): Promise<WriteResult> {
  const files = generatedFiles(opts);
  const result: WriteResult = { written: [], removed: [] };
  for (const [rel, content] of files) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
    result.written.push(rel);
  }
  for (const name of await readdir(join(root, GENERATED_DIR))) {
    const rel = `${GENERATED_DIR}/${name}`;
    if (name.endsWith('.json') && !files.has(rel)) {
      await rm(join(root, rel));
      result.removed.push(rel);
    }
  }
  return result;
}
