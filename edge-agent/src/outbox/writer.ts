/**
 * The write side of the segment files: appends encoded batches to the active segment, syncs, rolls to a
 * new segment when the active one is full, and deletes segments once acked. The outbox decides what to
 * write and when it counts as durable; this class only keeps the files and their in-memory index right.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { UplinkType } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import { encodeRecordInto, HEADER_BYTES } from './record.js';
import { segmentFileName, SPARSE_EVERY } from './segments.js';
import { syncDir } from './checkpoint.js';
import type { LiveSegment } from './recovery.js';

export interface WriteItem {
  type: UplinkType;
  /** JSON of `{type, data}`; the seq is spliced in here, so seqs are fixed only when written. */
  body: string;
  at: number;
}

export class SegmentWriter {
  /** Live segments, oldest first; the last one is active. Readers take a copy of the list. */
  readonly segments: LiveSegment[] = [];
  /** Last seq written to the active segment (synced or not). */
  writtenSeq = 0;
  /** Set when a failed write could not be undone; appends must stop until a restart recovers the files. */
  broken = false;
  brokenCause: unknown;
  private fh: FileHandle | undefined;

  constructor(private readonly dir: string, private readonly segmentBytes: number) {}

  /** Takes over recovered segments; appends continue the newest one, or a new one when seqs moved past it. */
  async open(recovered: LiveSegment[], lastSeq: number): Promise<void> {
    this.segments.push(...recovered);
    this.writtenSeq = lastSeq;
    const tail = this.segments.at(-1);
    if (!tail || tail.lastSeq !== lastSeq) await this.openSegment(lastSeq + 1);
    else this.fh = await open(tail.path, 'a', 0o600);
  }

  /** Bytes the next batch may take before the active segment is full (a full one rolls first). */
  room(): number {
    const seg = this.segments.at(-1);
    return !seg || seg.size >= this.segmentBytes ? this.segmentBytes : this.segmentBytes - seg.size;
  }

  /** Position just past the last written byte, in the virtual log of all segments. */
  get end(): number {
    const tail = this.segments.at(-1);
    return tail ? tail.base + tail.size : 0;
  }

  /**
   * Writes `items` as seqs writtenSeq + 1…, with one write and, when `sync`, one fdatasync. On any failure
   * the segment is cut back to where the batch began, so those seqs go to the next batch and the sequence
   * stays dense (after a failed fsync the page cache cannot be trusted, so nothing is kept as written).
   */
  async write(items: readonly WriteItem[], sync: boolean): Promise<{ first: number; last: number }> {
    const first = this.writtenSeq + 1;
    let seg = this.segments.at(-1);
    if (!seg || !this.fh || seg.size >= this.segmentBytes) seg = await this.roll(first);
    const sizeBefore = seg.size;
    try {
      // One buffer for the whole batch: one write, and no per-record buffers to collect.
      const jsons = items.map((item, i) => `{"seq":${first + i},${item.body.slice(1)}`);
      const lens = jsons.map((j) => Buffer.byteLength(j, 'utf8'));
      const all = Buffer.allocUnsafe(lens.reduce((sum, n) => sum + n + HEADER_BYTES, 0));
      const sparse: number[] = [];
      let pos = 0;
      items.forEach((item, i) => {
        const seq = first + i;
        if ((seq - seg!.firstSeq) % SPARSE_EVERY === 0) sparse.push(seg!.size + pos);
        pos += encodeRecordInto(all, pos, seq, item.at, item.type, jsons[i]!, lens[i]!);
      });
      const { bytesWritten } = await this.fh!.write(all, 0, all.length);
      if (bytesWritten !== all.length) throw new Error(`short write: ${bytesWritten} of ${all.length} bytes`);
      seg.sparse.push(...sparse);
      seg.size += all.length;
      seg.lastSeq = first + items.length - 1;
      this.writtenSeq = seg.lastSeq;
      if (sync) await this.sync();
      return { first, last: seg.lastSeq };
    } catch (err) {
      await this.rewind(seg, first, sizeBefore);
      throw new CodedError('ERR_OUTBOX_WRITE', `writing ${items.length} records failed`, { cause: err });
    }
  }

  /** fdatasync of the active segment; returns the last seq now on stable storage. */
  async sync(): Promise<number> {
    const seg = this.segments.at(-1);
    if (!seg || !this.fh) return this.writtenSeq;
    const seq = this.writtenSeq;
    const size = seg.size;
    await this.fh.datasync();
    seg.durableSize = Math.max(seg.durableSize, size);
    return seq;
  }

  /** Deletes segments wholly at or below `seq`, except the active one (used only after a durable checkpoint). */
  async dropUpTo(seq: number): Promise<void> {
    let dropped = false;
    while (this.segments.length > 1 && this.segments[0]!.lastSeq <= seq) {
      await unlink(this.segments.shift()!.path);
      dropped = true;
    }
    if (dropped) await syncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }

  private async roll(firstSeq: number): Promise<LiveSegment> {
    if (this.fh) {
      // The old segment is synced before the new one exists, so only the newest can ever end torn.
      await this.sync();
      await this.fh.close();
      this.fh = undefined;
    }
    return this.openSegment(firstSeq);
  }

  private async openSegment(firstSeq: number): Promise<LiveSegment> {
    const seg: LiveSegment = {
      firstSeq, lastSeq: firstSeq - 1, path: join(this.dir, segmentFileName(firstSeq)),
      size: 0, durableSize: 0, sparse: [], base: this.end,
    };
    this.fh = await open(seg.path, 'a', 0o600);
    await syncDir(this.dir);
    this.segments.push(seg);
    return seg;
  }

  private async rewind(seg: LiveSegment, first: number, sizeBefore: number): Promise<void> {
    this.writtenSeq = first - 1;
    try {
      await this.fh?.truncate(sizeBefore);
      seg.size = sizeBefore;
      seg.durableSize = Math.min(seg.durableSize, sizeBefore);
      seg.lastSeq = first - 1;
      seg.sparse = seg.sparse.filter((o) => o < sizeBefore);
    } catch (err) {
      // The file is in an unknown state: the caller sees `broken` and refuses appends until a restart.
      this.broken = true;
      this.brokenCause = err;
    }
  }
}
