import { chmod, mkdir, open, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Replaces a small state file so that a crash or power cut leaves either the old or the new file whole:
 * temp file → fsync → rename → fsync the folder. Mode 0600: these files may hold ids and credentials.
 */
export async function writeAtomic(file: string, body: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Makes a data folder private to its user: folders 0700, files 0600, all the way down. Run at start, so a
 * folder written by an older version (0755 / 0644: outbox records, dead letters with residents' positions and
 * vitals, issue 13) is closed too; what is written afterwards is created with these modes.
 */
export async function makePrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await makePrivate(p);
    else if (e.isFile()) await chmod(p, 0o600);
  }
}
