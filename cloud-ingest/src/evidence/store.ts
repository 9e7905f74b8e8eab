/**
 * Where uploaded evidence clips live (issue 16, item 4). The ingest speaks only to this interface; the file
 * store (file-store.ts) is the one backend today. The calls map one to one onto an S3-compatible store, so
 * one can be added later without touching the routes:
 *
 * - `append` ↔ UploadPart of a multipart upload (the upload id kept beside the clip's row; S3 wants parts of
 *   at least 5 MiB except the last, which the edge's 8 MiB chunks satisfy when it sends full ones),
 * - `finalize` ↔ CompleteMultipartUpload, `discardPartial` ↔ AbortMultipartUpload,
 * - `read` with a range ↔ GET with a Range header, `stat` ↔ HEAD, `delete` ↔ DeleteObject,
 * - `list` ↔ ListObjectsV2 under `<site>/`, `listPartials` ↔ ListMultipartUploads.
 *
 * Everything is keyed by site: a clip of one site can never be named, read or overwritten through another.
 */
import type { Readable } from 'node:stream';
import { CodedError } from '@safe-community/runtime';

/** A chunk that does not start where the stored upload ends; `upTo` is where it does. */
export class EvidenceOffsetError extends CodedError {
  constructor(readonly upTo: number) {
    super('ERR_EVIDENCE_OFFSET', `the upload holds ${upTo} bytes; a chunk must start there`);
  }
}

/** One clip of one site. Both parts are checked by the store (site name, UUID) before any path is built. */
export interface ClipKey {
  site: string;
  clip: string;
}

export interface StoredClip {
  /** Where the finished clip is, relative to the store: `<site>/<yyyy-mm-dd>/<clip>.mp4`. */
  storageKey: string;
  bytes: number;
  /** Hex sha256 of the whole file. */
  sha256: string;
}

export interface ListedObject {
  storageKey: string;
  site: string;
  clip: string;
  bytes: number;
  modifiedAt: Date;
}

/** A byte range, both ends inclusive (as HTTP has it). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface EvidenceStore {
  readonly kind: string;
  /** Bytes stored so far of an unfinished upload; 0 when there is none. */
  partialSize(key: ClipKey): Promise<number>;
  /**
   * Appends `chunk` at `offset` of the unfinished upload and returns the new size. Throws
   * ERR_EVIDENCE_OFFSET (with `upTo`) when `offset` is not the current size.
   */
  append(key: ClipKey, offset: number, chunk: Buffer): Promise<number>;
  /**
   * Checks the unfinished upload against the expected size and sha256 and moves it to its final key under
   * `day` (yyyy-mm-dd). On a mismatch the upload is discarded and ERR_EVIDENCE_HASH is thrown.
   */
  finalize(key: ClipKey, expected: { bytes: number; sha256: string }, day: string): Promise<StoredClip>;
  discardPartial(key: ClipKey): Promise<void>;
  /** Size of a finished clip; null when it is not there. */
  stat(storageKey: string, site: string): Promise<{ bytes: number } | null>;
  /** A stream of the clip, or of one range of it. Throws ERR_EVIDENCE_NOT_FOUND when it is not there. */
  read(storageKey: string, site: string, range?: ByteRange): Promise<Readable>;
  /** Removes a finished clip; a clip already gone is not an error. */
  delete(storageKey: string, site: string): Promise<void>;
  /** Finished clips, of one site or all, optionally only those last written before `before`. */
  list(filter: { site?: string; before?: Date }): Promise<ListedObject[]>;
  /** Unfinished uploads, optionally only those last written before `before`. */
  listPartials(filter: { site?: string; before?: Date }): Promise<ListedObject[]>;
  /** Whether the store can be written now (health, and the 503 of the upload route). */
  health(): Promise<{ ok: boolean; detail?: string }>;
}
