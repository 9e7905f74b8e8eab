/**
 * Segment files: append-only files named by the first seq they hold. This module knows how to find them,
 * scan them at recovery (validating every record and truncating a torn tail), and read a range of
 * records back through a sparse in-memory index, so a backlog of millions costs a few KiB of memory.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '@safe-community/runtime';
import { decodeHeader, bodyOf, typeOfCode, HEADER_BYTES, type OutboxRecord } from './record.js';

/** One sparse index entry per this many records. */
export const SPARSE_EVERY = 128;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const SCAN_CHUNK = 8 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;

export interface Segment {
  firstSeq: number;
  /** firstSeq - 1 while empty. */
  lastSeq: number;
  path: string;
  /** Bytes of complete records written. */
  size: number;
  /** Bytes known to be on stable storage; readers never go past this. */
  durableSize: number;
  /** sparse[i] = byte offset of record firstSeq + i * SPARSE_EVERY. */
  sparse: number[];
}

export const segmentFileName = (firstSeq: number): string => `${String(firstSeq).padStart(16, '0')}.seg`;

/** Segment files in the folder, by first seq. */
export async function listSegmentFiles(dir: string): Promise<{ firstSeq: number; path: string }[]> {
  const names = await readdir(dir);
  const out: { firstSeq: number; path: string }[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m?.[1]) out.push({ firstSeq: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export interface ScanResult {
  segment: Segment;
  /** Set when the file ended in a torn or corrupt record: the offset where the valid records end. */
  truncatedAt?: number;
  reason?: string;
}

/**
 * Reads a whole segment, checking length, CRC and that seqs run on without gaps. Stops at the first bad
 * record; the caller decides whether that is a torn tail (last segment) or corruption (any other).
 */
export async function scanSegment(path: string, firstSeq: number): Promise<ScanResult> {
  const fh = await open(path, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, path, size: 0, durableSize: 0, sparse: [] };
    let pos = 0;
    let reason: string | undefined;
    let want = SCAN_CHUNK;
    while (pos < fileSize && reason === undefined) {
      const len = Math.min(want, fileSize - pos);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      const chunk = buf.subarray(0, bytesRead);
      const atEof = pos + bytesRead >= fileSize;
      let off = 0;
      for (;;) {
        const r = decodeHeader(chunk, off, true);
        if (r.kind === 'short') {
          if (atEof) reason = 'torn record at end of file';
          else if (off === 0) want = Math.max(want * 2, chunk.readUInt32LE(0) + HEADER_BYTES); // one record over the chunk
          break;
        }
        if (r.kind === 'bad') { reason = r.reason; break; }
        if (r.seq !== seg.lastSeq + 1) { reason = `seq ${r.seq} where ${seg.lastSeq + 1} was due`; break; }
        if ((r.seq - firstSeq) % SPARSE_EVERY === 0) seg.sparse.push(pos + off);
        seg.lastSeq = r.seq;
        off += r.size;
        if (off === chunk.length) break;
      }
      pos += off;
    }
    seg.size = pos;
    seg.durableSize = pos;
    return pos < fileSize ? { segment: seg, truncatedAt: pos, reason: reason ?? 'trailing bytes' } : { segment: seg };
  } finally {
    await fh.close();
  }
}

/** A reader position remembered between calls, so sequential reads skip the index lookup. */
export interface Cursor {
  firstSeq: number;
  seq: number;
  offset: number;
}

export interface ReadLimits {
  maxCount: number;
  maxBytes: number;
  /** Highest seq that may be returned (the durable seq). */
  limitSeq: number;
}

/**
 * Appends records of `seg` with seq >= from to `out`, within the limits. Returns the cursor after the last
 * record returned and the body bytes used.
 */
export async function readSegment(
  seg: Segment, from: number, limits: ReadLimits, out: OutboxRecord[], usedBytes: number, cursor: Cursor | undefined,
): Promise<{ cursor: Cursor | undefined; usedBytes: number }> {
  let seq: number;
  let offset: number;
  if (cursor && cursor.firstSeq === seg.firstSeq && cursor.seq <= from && from - cursor.seq < SPARSE_EVERY) {
    ({ seq, offset } = cursor);
  } else {
    const idx = Math.floor((from - seg.firstSeq) / SPARSE_EVERY);
    const o = seg.sparse[idx];
    if (o === undefined) return { cursor, usedBytes };
    seq = seg.firstSeq + idx * SPARSE_EVERY;
    offset = o;
  }
  const end = seg.durableSize;
  let fh: FileHandle | undefined;
  try {
    fh = await open(seg.path, 'r');
    // Small reads for small asks (locating one record after an ack), one large read for a full batch.
    let want = Math.max(READ_CHUNK, limits.maxBytes + HEADER_BYTES * 64);
    while (offset < end && seq <= limits.limitSeq && out.length < limits.maxCount) {
      const len = Math.min(want, end - offset);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, offset);
      const chunk = buf.subarray(0, bytesRead);
      let off = 0;
      let full = false;
      for (;;) {
        if (seq > limits.limitSeq || out.length >= limits.maxCount) { full = true; break; }
        const r = decodeHeader(chunk, off, false);
        if (r.kind === 'short') break;
        if (r.kind === 'bad' || r.seq !== seq) {
          throw new CodedError('ERR_OUTBOX_CORRUPT', `segment ${seg.path} at ${offset + off}: ${r.kind === 'bad' ? r.reason : `seq ${r.seq}, expected ${seq}`}`);
        }
        if (seq >= from) {
          const bodyLen = r.size - HEADER_BYTES;
          // At least one record per read, even if it alone exceeds the byte budget.
          if (out.length > 0 && usedBytes + bodyLen > limits.maxBytes) { full = true; break; }
          out.push({ seq, appendedAt: r.appendedAt, type: typeOfCode(r.typeCode), json: bodyOf(chunk, off, r.size) });
          usedBytes += bodyLen;
        }
        off += r.size;
        seq++;
      }
      if (off === 0 && !full) {
        if (len === end - offset) throw new CodedError('ERR_OUTBOX_CORRUPT', `segment ${seg.path}: record at ${offset} runs past the durable end`);
        want = Math.max(want * 2, chunk.readUInt32LE(0) + HEADER_BYTES); // one record bigger than the chunk
      }
      offset += off;
      if (full) break;
    }
  } finally {
    await fh?.close();
  }
  return { cursor: { firstSeq: seg.firstSeq, seq, offset }, usedBytes };
}

/** Offset and appendedAt of record `seq` in `seg` (which must hold it durably). */
export async function locate(seg: Segment, seq: number): Promise<{ offset: number; appendedAt: number } | undefined> {
  const out: OutboxRecord[] = [];
  const r = await readSegment(seg, seq, { maxCount: 1, maxBytes: 1, limitSeq: seq }, out, 0, undefined);
  const rec = out[0];
  if (!rec || !r.cursor) return undefined;
  const body = Buffer.byteLength(rec.json, 'utf8');
  return { offset: r.cursor.offset - body - HEADER_BYTES, appendedAt: rec.appendedAt };
}

/** Index of the segment holding `seq` (binary search on first seqs), -1 when none. */
export function segmentIndexOf(segments: readonly Segment[], seq: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid]!.firstSeq <= seq) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Records from `from` on across segments, within the limits; returns them and the cursor for the next call. */
export async function readRange(
  segments: readonly Segment[], from: number, limits: ReadLimits, cursor: Cursor | undefined,
): Promise<{ records: OutboxRecord[]; cursor: Cursor | undefined }> {
  const out: OutboxRecord[] = [];
  let used = 0;
  let next = from;
  for (let i = segmentIndexOf(segments, from); i >= 0 && i < segments.length; i++) {
    if (out.length >= limits.maxCount || next > limits.limitSeq) break;
    const seg = segments[i]!;
    if (seg.lastSeq < next) continue;
    const r = await readSegment(seg, next, limits, out, used, cursor);
    used = r.usedBytes;
    cursor = r.cursor;
    const lastOut = out.at(-1);
    if (!lastOut) continue;
    next = lastOut.seq + 1;
    if (lastOut.seq < seg.lastSeq) break; // a limit stopped the read inside this segment
  }
  return { records: out, cursor };
}
