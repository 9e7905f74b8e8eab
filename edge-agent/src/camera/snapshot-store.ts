/**
 * Where camera snapshots are kept. Every image passes the `redact` step (face blur from analytics, wired
 * in the composition root) before it is written, so an unblurred picture never lands on disk.
 */
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CodedError } from '@safe-community/runtime';

export interface SnapshotStore {
  /** Stores the JPEG and returns a reference the cloud and the audit log can carry. */
  save(camera: string, jpeg: Buffer, at: Date): Promise<string>;
}

export interface FileSnapshotStoreOptions {
  dir: string;
  /** Applied before writing, e.g. face blur; the result is what gets stored. */
  redact?: (jpeg: Buffer) => Promise<Buffer>;
}

/** Files under `<dir>/<camera>/<time>-<random>.jpg`; the reference is `snapshot:<camera>/<file>`. */
export class FileSnapshotStore implements SnapshotStore {
  constructor(private readonly opts: FileSnapshotStoreOptions) {}

  async save(camera: string, jpeg: Buffer, at: Date): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(camera)) throw new CodedError('CAMERA_SNAPSHOT', `bad camera id for a file name: ${camera}`);
    let image = jpeg;
    if (this.opts.redact) {
      try {
        image = await this.opts.redact(jpeg);
      } catch (err) {
        // Without the blur the picture may show faces: refuse to store it rather than store it unblurred.
        throw new CodedError('CAMERA_SNAPSHOT_REDACT', `camera ${camera}: snapshot not stored, redaction failed`, { cause: err });
      }
    }
    const name = `${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.jpg`;
    const folder = join(this.opts.dir, camera);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeFile(join(folder, name), image, { mode: 0o600 });
    return `snapshot:${camera}/${name}`;
  }

  /** Reads a stored snapshot back by reference. */
  async read(ref: string): Promise<Buffer> {
    const rel = /^snapshot:([A-Za-z0-9._-]+\/[A-Za-z0-9._-]+\.jpg)$/.exec(ref)?.[1];
    const root = resolve(this.opts.dir);
    const file = rel ? resolve(root, rel) : undefined;
    if (!file || !file.startsWith(root + sep)) throw new CodedError('CAMERA_SNAPSHOT', `not a snapshot reference: ${ref}`);
    return readFile(file);
  }
}
