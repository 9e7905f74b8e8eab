/**
 * The durable outbox of the edge (issue 4, item 1). Every canonical message bound for the cloud is
 * appended here; `append` resolves with its per-edge seq once the record is on stable storage, and the
 * uplink reads records back in seq order and advances the outbox only on the cloud's end-to-end ack.
 *
 * Group commit: appends that arrive while a write + fdatasync is in progress queue up and share the next
 * one, so throughput grows with concurrency while each caller still waits for its own record to be durable.
 * Seqs are assigned when a batch is written, in append order, so a failed write leaves no gap.
 */
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Alarm, UplinkType } from '@safe-community/contracts';
import { CodedError, createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { OutboxInput, UplinkSink } from '../ports.js';
import { encodeRecord, HEADER_BYTES, MAX_BODY_BYTES, type OutboxRecord } from './record.js';
import { locate, readRange, segmentIndexOf, segmentFileName, SPARSE_EVERY, type Cursor } from './segments.js';
import { recoverSegments, type LiveSegment } from './recovery.js';
import { readCheckpoint, writeCheckpoint, syncDir } from './checkpoint.js';
import { CapacityRule, highWaterAlarm, type CapacityOptions } from './capacity.js';

export interface OutboxOptions {
  /** Folder of the segment files and the checkpoint; created if missing. */
  dir: string;
  edge: string;
  site: string;
  /** A segment is closed and a new one started once it reaches this size. Default 16 MiB. */
  segmentBytes?: number;
  /** Capacity and thinning rule (see capacity.ts). Default: 256 MiB. */
  capacity?: CapacityOptions;
  /**
   * fsync policy. 0 (default): every write batch is fdatasync'ed before its appends resolve.
   * > 0: appends resolve once written to the OS and the file is synced every fsyncIntervalMs; up to that
   * much may be lost on a power cut (not on a process crash). Meant for telemetry-only outboxes.
   */
  fsyncIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called with an `outbox.high_water` alarm when the outbox passes the high-water mark. */
  onHighWater?: (alarm: Alarm) => void;
}

export interface OutboxStats {
  /** Records appended and not yet acknowledged by the cloud. */
  depth: number;
  /** Age of the oldest unacknowledged record, 0 when none. */
  oldestAgeMs: number;
  lastSeq: number;
  durableSeq: number;
  ackedSeq: number;
  /** Bytes of unacknowledged records (the capacity is measured on this). */
  bytes: number;
  capacityBytes: number;
  /** Telemetry records dropped by the capacity rule since start. */
  thinned: number;
  segments: number;
  /** Write batches since start (each one write + one fdatasync under the default policy): group commit at work. */
  writes: number;
}

interface Pending {
  type: UplinkType;
  /** JSON of `{type, data}`; the seq is spliced in when the batch is written. */
  body: string;
  at: number;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export class Outbox implements UplinkSink {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly segmentBytes: number;
  private readonly rule: CapacityRule;
  private segments: LiveSegment[] = [];
  private fh: FileHandle | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private flushRunning = false;
  private syncDue = false;
  private syncTimer: unknown;
  private writtenSeq = 0;
  private durable = 0;
  private acked = 0;
  private checkpointed = 0;
  private checkpointing: Promise<void> | undefined;
  private checkpointRunning = false;
  /** Virtual-log position and append time of record acked + 1. */
  private headPos = 0;
  private headAt: number | undefined;
  private headRefresh: Promise<void> | undefined;
  private cursor: Cursor | undefined;
  private thinned = 0;
  private writes = 0;
  private running = false;
  private readonly durableListeners = new Set<(seq: number) => void>();

  constructor(private readonly opts: OutboxOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'outbox' });
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.rule = new CapacityRule(opts.capacity ?? { maxBytes: 256 * 1024 * 1024 });
  }

  get ackedSeq(): number {
    return this.acked;
  }

  /** Highest seq that is on stable storage; the uplink sends nothing beyond it. */
  get durableSeq(): number {
    return this.durable;
  }

  /** Recovers the segments (truncating a torn tail), reads the checkpoint and opens the active segment. */
  async start(): Promise<void> {
    const { dir } = this.opts;
    await mkdir(dir, { recursive: true });
    this.acked = this.checkpointed = await readCheckpoint(dir);
    const { segments, last } = await recoverSegments(dir, this.acked, this.log);
    this.segments = segments;
    this.writtenSeq = this.durable = last;
    const tail = this.segments.at(-1);
    if (!tail || tail.lastSeq !== last) await this.openSegment(last + 1);
    else this.fh = await open(tail.path, 'a');
    await this.dropAckedSegments();
    await this.refreshHead();
    const interval = this.opts.fsyncIntervalMs ?? 0;
    if (interval > 0) this.scheduleSync(interval);
    this.running = true;
    this.log.info({ dir, lastSeq: last, ackedSeq: this.acked, segments: this.segments.length }, 'outbox recovered');
  }

  /** Writes what is pending, syncs, writes the checkpoint and closes the files. */
  async stop(): Promise<void> {
    if (!this.running && !this.fh) return;
    this.running = false;
    if (this.syncTimer !== undefined) this.clock.clearTimeout(this.syncTimer);
    this.syncDue = true;
    await this.kick();
    await this.checkpointing;
    await this.headRefresh;
    await this.fh?.close();
    this.fh = undefined;
  }

  /**
   * Appends one message; resolves with its seq once durable (per the fsync policy). Resolves with 0 when
   * the capacity rule thinned the record (telemetry only): it is counted in stats().thinned and never sent.
   */
  append(msg: OutboxInput): Promise<number> {
    if (!this.running) return Promise.reject(new CodedError('ERR_OUTBOX_STOPPED', 'the outbox is not running'));
    const now = this.clock.now();
    const used = this.usedBytes();
    if (this.rule.judge(msg.type, msg.data, used, now) === 'thin') {
      this.thinned++;
      return Promise.resolve(0);
    }
    const body = JSON.stringify({ type: msg.type, data: msg.data });
    // 24 bytes covers `"seq":<16 digits>,` spliced in at write time.
    const size = HEADER_BYTES + Buffer.byteLength(body, 'utf8') + 24;
    if (size > MAX_BODY_BYTES) {
      return Promise.reject(new CodedError('ERR_OUTBOX_RECORD_TOO_LARGE', `record of ${size} bytes is over the ${MAX_BODY_BYTES} limit`));
    }
    if (this.pending.length === 0 && this.writtenSeq === this.acked) this.headAt = now;
    this.pendingBytes += size;
    if (this.rule.crossedHighWater(used + size)) this.raiseHighWater(used + size, now);
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ type: msg.type, body, at: now, resolve, reject });
      void this.kick();
    });
  }

  /**
   * Up to maxCount durable records from `seq` on (never ones already acknowledged), at least one if any
   * exists, and no more body bytes than maxBytes beyond the first.
   */
  async readFrom(seq: number, maxCount: number, maxBytes: number): Promise<OutboxRecord[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        // A copy of the list: acks may drop segments from its head while this read is awaiting I/O.
        const segs = this.segments.slice();
        const r = await readRange(segs, Math.max(seq, this.acked + 1), { maxCount, maxBytes, limitSeq: this.durable }, this.cursor);
        this.cursor = r.cursor;
        return r.records;
      } catch (err) {
        // An acknowledged segment may be deleted under a reader; reading again starts past it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 2) throw err;
      }
    }
  }

  /** The cloud has committed every seq <= upTo: advance, checkpoint, and delete fully acked segments. */
  async ackUpTo(upTo: number): Promise<void> {
    if (upTo <= this.acked) return;
    if (upTo > this.durable) {
      this.log.warn({ upTo, durableSeq: this.durable }, 'ack beyond the durable seq; clamped');
      upTo = this.durable;
    }
    this.acked = upTo;
    await Promise.all([this.refreshHead(), this.checkpoint()]);
  }

  /** Subscribes to durable-seq advances (the uplink's cue to send); returns an unsubscribe function. */
  onDurable(listener: (seq: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  stats(): OutboxStats {
    const depth = this.writtenSeq - this.acked + this.pending.length;
    return {
      depth,
      oldestAgeMs: depth > 0 && this.headAt !== undefined ? Math.max(0, this.clock.now() - this.headAt) : 0,
      lastSeq: this.writtenSeq,
      durableSeq: this.durable,
      ackedSeq: this.acked,
      bytes: this.usedBytes(),
      capacityBytes: this.rule.maxBytes,
      thinned: this.thinned,
      segments: this.segments.length,
      writes: this.writes,
    };
  }

  private usedBytes(): number {
    const tail = this.segments.at(-1);
    const end = tail ? tail.base + tail.size : 0;
    return Math.max(0, end - this.headPos) + this.pendingBytes;
  }

  private raiseHighWater(used: number, now: number): void {
    const alarm = highWaterAlarm(this.opts, used, this.rule.maxBytes, now);
    this.log.warn({ used, capacity: this.rule.maxBytes }, 'outbox passed its high-water mark');
    try {
      this.opts.onHighWater?.(alarm);
    } catch (err) {
      this.log.error({ err }, 'high-water callback threw');
    }
  }

  /** Runs the single writer until nothing is pending; concurrent callers share the same run. */
  private kick(): Promise<void> {
    if (!this.flushRunning) this.flushing = this.flushLoop();
    return this.flushing ?? Promise.resolve();
  }

  private async flushLoop(): Promise<void> {
    // The flag is cleared in the same tick as the loop's last check, so an append never finds a writer
    // that has already decided to stop.
    this.flushRunning = true;
    try {
      while (this.pending.length > 0 || this.syncDue) {
        if (this.pending.length > 0) await this.writeBatch();
        else {
          this.syncDue = false;
          if (this.writtenSeq > this.durable) await this.syncActive();
        }
      }
    } finally {
      this.flushRunning = false;
    }
  }

  private async writeBatch(): Promise<void> {
    const first = this.writtenSeq + 1;
    let batch: Pending[] = [];
    let sizeBefore: number | undefined;
    try {
      let seg = this.segments.at(-1);
      if (!seg || seg.size >= this.segmentBytes) seg = await this.rollSegment(first);
      sizeBefore = seg.size;
      batch = this.takeBatch(this.segmentBytes - seg.size);
      const bufs: Buffer[] = [];
      let offset = seg.size;
      const sparse: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        const seq = first + i;
        const buf = encodeRecord(seq, p.at, p.type, `{"seq":${seq},${p.body.slice(1)}`);
        if ((seq - seg.firstSeq) % SPARSE_EVERY === 0) sparse.push(offset);
        offset += buf.length;
        bufs.push(buf);
      }
      const all = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
      const { bytesWritten } = await this.fh!.write(all, 0, all.length);
      if (bytesWritten !== all.length) throw new Error(`short write: ${bytesWritten} of ${all.length} bytes`);
      this.writes++;
      seg.sparse.push(...sparse);
      seg.size += all.length;
      seg.lastSeq = first + batch.length - 1;
      this.writtenSeq = seg.lastSeq;
      for (const p of batch) this.pendingBytes -= HEADER_BYTES + Buffer.byteLength(p.body, 'utf8') + 24;
      if ((this.opts.fsyncIntervalMs ?? 0) <= 0) await this.syncActive();
      batch.forEach((p, i) => p.resolve(first + i));
    } catch (err) {
      await this.recoverFromWriteError(first, sizeBefore);
      for (const p of batch) this.pendingBytes -= HEADER_BYTES + Buffer.byteLength(p.body, 'utf8') + 24;
      const e = new CodedError('ERR_OUTBOX_WRITE', `writing ${batch.length} records failed`, { cause: err });
      this.log.error({ err }, 'outbox write failed');
      for (const p of batch) p.reject(e);
    }
  }

  /** Takes pending appends in order, as many as fit in `room` bytes (at least one), so segments roll on time. */
  private takeBatch(room: number): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length) {
      bytes += HEADER_BYTES + this.pending[n]!.body.length + 24;
      if (n > 0 && bytes > room) break;
      n++;
    }
    return this.pending.splice(0, n);
  }

  /**
   * After a failed write or sync, cuts the active segment back to where the batch began, so the seqs it
   * would have taken are given to the next batch and the sequence stays dense. (After a failed fsync the
   * page cache cannot be trusted, so the batch is not retried as if it were written.)
   */
  private async recoverFromWriteError(firstSeq: number, sizeBefore: number | undefined): Promise<void> {
    const seg = this.segments.at(-1);
    this.writtenSeq = firstSeq - 1;
    if (!seg || !this.fh || sizeBefore === undefined) {
      if (this.fh === undefined) {
        this.running = false;
        this.log.error('outbox has no open segment after a failed write; stopped until restart');
      }
      return;
    }
    try {
      await this.fh.truncate(sizeBefore);
      seg.size = sizeBefore;
      seg.durableSize = Math.min(seg.durableSize, sizeBefore);
      seg.lastSeq = firstSeq - 1;
      seg.sparse = seg.sparse.filter((o) => o < sizeBefore);
    } catch (err) {
      // The file is in an unknown state; refuse further appends until a restart recovers it.
      this.running = false;
      this.log.error({ err }, 'outbox cannot repair its active segment; stopped until restart');
    }
  }

  private async syncActive(): Promise<void> {
    const seg = this.segments.at(-1);
    if (!seg || !this.fh) return;
    const seq = this.writtenSeq;
    const size = seg.size;
    await this.fh.datasync();
    seg.durableSize = Math.max(seg.durableSize, size);
    if (seq > this.durable) {
      this.durable = seq;
      for (const l of this.durableListeners) l(seq);
    }
  }

  private scheduleSync(interval: number): void {
    this.syncTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.syncDue = true;
      void this.kick().catch((err) => this.log.error({ err }, 'interval sync failed'));
      this.scheduleSync(interval);
    }, interval);
  }

  private async rollSegment(firstSeq: number): Promise<LiveSegment> {
    if (this.fh) {
      await this.syncActive();
      await this.fh.close();
      this.fh = undefined;
    }
    return this.openSegment(firstSeq);
  }

  private async openSegment(firstSeq: number): Promise<LiveSegment> {
    const prev = this.segments.at(-1);
    const seg: LiveSegment = {
      firstSeq, lastSeq: firstSeq - 1, path: join(this.opts.dir, segmentFileName(firstSeq)),
      size: 0, durableSize: 0, sparse: [], base: prev ? prev.base + prev.size : 0,
    };
    this.fh = await open(seg.path, 'a');
    await syncDir(this.opts.dir);
    this.segments.push(seg);
    return seg;
  }

  /** Updates the position and age of the oldest unacknowledged record. */
  private refreshHead(): Promise<void> {
    const run = async (): Promise<void> => {
      const seq = this.acked + 1;
      const tail = this.segments.at(-1);
      if (seq > this.writtenSeq || !tail) {
        this.headPos = tail ? tail.base + tail.size : 0;
        this.headAt = this.pending[0]?.at;
        return;
      }
      const seg = this.segments[segmentIndexOf(this.segments, seq)];
      if (!seg) return;
      const at = await locate(seg, seq);
      if (at && this.acked + 1 === seq) {
        this.headPos = seg.base + at.offset;
        this.headAt = at.appendedAt;
      }
    };
    const p = (this.headRefresh ?? Promise.resolve()).then(run).catch((err) => {
      this.log.warn({ err }, 'outbox: could not read the oldest record');
    });
    this.headRefresh = p;
    return p;
  }

  /** Writes the acked checkpoint (coalescing bursts of acks), then deletes segments it fully covers. */
  private checkpoint(): Promise<void> {
    if (!this.checkpointRunning) this.checkpointing = this.checkpointLoop();
    return this.checkpointing ?? Promise.resolve();
  }

  private async checkpointLoop(): Promise<void> {
    this.checkpointRunning = true;
    try {
      while (this.checkpointed < this.acked) {
        const seq = this.acked;
        await writeCheckpoint(this.opts.dir, seq);
        this.checkpointed = seq;
        await this.dropAckedSegments();
      }
    } catch (err) {
      this.log.error({ err }, 'outbox: writing the acked checkpoint failed; will retry on the next ack');
    } finally {
      this.checkpointRunning = false;
    }
  }

  private async dropAckedSegments(): Promise<void> {
    // The active (last) segment stays; older ones go once the durable checkpoint covers them.
    while (this.segments.length > 1 && this.segments[0]!.lastSeq <= this.checkpointed) {
      const seg = this.segments.shift()!;
      await unlink(seg.path);
    }
    if (this.segments.length > 0) await syncDir(this.opts.dir);
  }
}
