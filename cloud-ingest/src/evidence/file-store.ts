/**
 * The evidence store on a local (or mounted) folder: `<dir>/<site>/<yyyy-mm-dd>/<clip>.mp4` for finished
 * clips, `<dir>/<site>/.partial/<clip>.part` for uploads in progress. Paths are built only from a checked
 * site name, a UUID and a date, and resolved paths are checked to stay inside the site's folder, so nothing
 * a caller sends can reach outside it.
 */
import { ID_RE } from '@safe-community/contracts';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { CodedError } from '@safe-community/runtime';
import { EvidenceOffsetError, type ByteRange, type ClipKey, type EvidenceStore, type ListedObject, type StoredClip } from './store.js';

export const CLIP_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const KEY_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/(\d{4}-\d{2}-\d{2})\/([0-9a-f-]{36})\.mp4$/;
const PARTIAL = '.partial';

function notSafe(what: string): CodedError {
  return new CodedError('ERR_EVIDENCE_KEY', `${what} is not one this store can hold`);
}

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';
/** A folder that is not there, or is a file: nothing to list in it (a stray file in the root is not a site). */
const noFolder = (err: unknown): boolean => missing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR';

export class FileEvidenceStore implements EvidenceStore {
  readonly kind = 'file';
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  /** The site's folder; every path this store touches lies strictly inside one. */
  private siteDir(site: string): string {
    if (!ID_RE.test(site)) throw notSafe(`site ${JSON.stringify(site).slice(0, 80)}`);
    return join(this.root, site);
  }

  private inside(site: string, ...parts: string[]): string {
    const base = this.siteDir(site);
    const full = resolve(base, ...parts);
    if (!full.startsWith(base + sep)) throw notSafe('a path');
    return full;
  }

  private partialPath(key: ClipKey): string {
    if (!CLIP_RE.test(key.clip)) throw notSafe(`clip id ${JSON.stringify(key.clip).slice(0, 80)}`);
    return this.inside(key.site, PARTIAL, `${key.clip}.part`);
  }

  /** The file of a storage key, which must belong to `site`. */
  private keyPath(storageKey: string, site: string): string {
    const m = KEY_RE.exec(storageKey);
    if (!m || m[1] !== site || !CLIP_RE.test(m[3]!)) throw notSafe(`storage key ${JSON.stringify(storageKey).slice(0, 120)}`);
    return this.inside(site, m[2]!, `${m[3]}.mp4`);
  }

  async partialSize(key: ClipKey): Promise<number> {
    try {
      return (await stat(this.partialPath(key))).size;
    } catch (err) {
      if (missing(err)) return 0;
      throw err;
    }
  }

  async append(key: ClipKey, offset: number, chunk: Buffer): Promise<number> {
    const path = this.partialPath(key);
    const size = await this.partialSize(key);
    if (size !== offset) {
      throw new EvidenceOffsetError(size);
    }
    await mkdir(join(this.siteDir(key.site), PARTIAL), { recursive: true });
    // Written at the offset, not appended: a torn earlier write past `size` is overwritten, never kept.
    const fh = await open(path, size === 0 ? 'w' : 'r+');
    try {
      await fh.write(chunk, 0, chunk.length, offset);
      await fh.truncate(offset + chunk.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return offset + chunk.length;
  }

  async finalize(key: ClipKey, expected: { bytes: number; sha256: string }, day: string): Promise<StoredClip> {
    if (!DAY_RE.test(day)) throw notSafe(`day ${day}`);
    const path = this.partialPath(key);
    const bytes = await this.partialSize(key);
    const sha256 = bytes === expected.bytes ? await hashFile(path) : '';
    if (bytes !== expected.bytes || sha256 !== expected.sha256.toLowerCase()) {
      await this.discardPartial(key);
      const why = bytes !== expected.bytes ? `holds ${bytes} bytes, ${expected.bytes} announced` : `sha256 ${sha256} differs from the announced ${expected.sha256}`;
      throw new CodedError('ERR_EVIDENCE_HASH', `the uploaded clip ${why}; it was discarded, upload it again from the start`);
    }
    const storageKey = `${key.site}/${day}/${key.clip}.mp4`;
    const target = this.keyPath(storageKey, key.site);
    await mkdir(join(this.siteDir(key.site), day), { recursive: true });
    await rename(path, target);
    return { storageKey, bytes, sha256 };
  }

  async discardPartial(key: ClipKey): Promise<void> {
    await rm(this.partialPath(key), { force: true });
  }

  async stat(storageKey: string, site: string): Promise<{ bytes: number } | null> {
    try {
      return { bytes: (await stat(this.keyPath(storageKey, site))).size };
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async read(storageKey: string, site: string, range?: ByteRange): Promise<Readable> {
    const path = this.keyPath(storageKey, site);
    // Opened before the stream is handed out, so a missing file is an error here and not a broken answer.
    const fh = await open(path, 'r').catch((err: unknown) => {
      if (missing(err)) throw new CodedError('ERR_EVIDENCE_NOT_FOUND', 'the clip file is not there (expired or deleted)', { cause: err });
      throw err;
    });
    return fh.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(storageKey: string, site: string): Promise<void> {
    await rm(this.keyPath(storageKey, site), { force: true });
  }

  async list(filter: { site?: string; before?: Date }): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for (const site of await this.sites(filter.site)) {
      for (const day of await dirNames(this.siteDir(site))) {
        if (!DAY_RE.test(day)) continue;
        out.push(...await this.objects(site, day, '.mp4', (clip) => `${site}/${day}/${clip}.mp4`, filter.before));
      }
    }
    return out;
  }

  async listPartials(filter: { site?: string; before?: Date }): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for (const site of await this.sites(filter.site)) {
      out.push(...await this.objects(site, PARTIAL, '.part', (clip) => `${site}/${PARTIAL}/${clip}.part`, filter.before));
    }
    return out;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: `evidence folder not writable: ${(err as Error).message}` };
    }
  }

  private async sites(only?: string): Promise<string[]> {
    if (only !== undefined) return ID_RE.test(only) ? [only] : [];
    return (await dirNames(this.root)).filter((s) => ID_RE.test(s));
  }

  private async objects(site: string, folder: string, ext: string, keyOf: (clip: string) => string, before?: Date): Promise<ListedObject[]> {
    const dir = this.inside(site, folder);
    const out: ListedObject[] = [];
    for (const name of await dirNames(dir)) {
      const clip = name.slice(0, -ext.length);
      if (!name.endsWith(ext) || !CLIP_RE.test(clip)) continue;
      const s = await stat(join(dir, name)).catch((err: unknown) => {
        if (missing(err)) return null;
        throw err;
      });
      if (!s || (before && s.mtime >= before)) continue;
      out.push({ storageKey: keyOf(clip), site, clip, bytes: s.size, modifiedAt: s.mtime });
    }
    return out;
  }
}

async function dirNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (noFolder(err)) return [];
    throw err;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
