/**
 * The durable outbox of the edge (issue 4, item 1). Every canonical message bound for the cloud is
 * appended here; `append` resolves with its per-edge seq once the record is on stable storage, and the
 * uplink reads records back in seq order and advances the outbox only on the cloud's end-to-end ack.
 *
 * Group commit: appends that arrive while a write + fdatasync is in progress queue up and share the next
 * one, so throughput grows with concurrency while each caller still waits for its own record to be durable.
 * Seqs are assigned when a batch is written, in append order, so a failed write leaves no gap.
 */
import { mkdir } from 'node:fs/promises';
import { validators, type Alarm, type UplinkType } from '@safe-community/contracts';
import { CodedError, createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { OutboxInput, UplinkSink } from '../ports.js';
import { HEADER_BYTES, MAX_BODY_BYTES, type OutboxRecord } from './record.js';
import { locate, readRange, segmentIndexOf, type Cursor } from './segments.js';
import { recoverSegments } from './recovery.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { readOrMakeEpoch } from './epoch.js';
import { SegmentWriter, type WriteItem } from './writer.js';
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

/**
 * Each record is checked against its contract schema before it takes a seq: one invalid record in the
 * outbox would make every batch that carries it fail at the cloud, stalling everything behind it.
 */
const CHECKS: Readonly<Record<UplinkType, { assert(v: unknown): unknown }>> = {
  event: validators.event,
  telemetry: validators.telemetry,
  status: validators.deviceStatus,
  command_result: validators.commandResult,
  alarm: validators.alarm,
  linkage: validators.linkage,
};

/** Room for `"seq":<up to 16 digits>,`, spliced into the body at write time. */
const SEQ_ALLOWANCE = 24;

interface Pending extends WriteItem {
  /** Estimated bytes on disk, counted in `bytes` until written. */
  size: number;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export class Outbox implements UplinkSink {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly rule: CapacityRule;
  private writer: SegmentWriter | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private flushRunning = false;
  private syncDue = false;
  private syncTimer: unknown;
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
  private epochId: string | undefined;
  private readonly durableListeners = new Set<(seq: number) => void>();

  constructor(private readonly opts: OutboxOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'outbox' });
    this.rule = new CapacityRule(opts.capacity ?? { maxBytes: 256 * 1024 * 1024 });
  }

  get ackedSeq(): number {
    return this.acked;
  }

  /**
   * This outbox's numbering: a random id made with the folder (file `epoch`). A wiped or replaced folder
   * starts a new epoch at seq 1, and the cloud, seeing the new epoch, continues its rows after the old
   * ones instead of skipping the new records as already stored.
   */
  get epoch(): string {
    if (!this.epochId) throw new CodedError('ERR_OUTBOX_STOPPED', 'the outbox has not started');
    return this.epochId;
  }

  /** Highest seq that is on stable storage; the uplink sends nothing beyond it. */
  get durableSeq(): number {
    return this.durable;
  }

  /** Recovers the segments (truncating a torn tail), reads the checkpoint and opens the active segment. */
  async start(): Promise<void> {
    const { dir } = this.opts;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.epochId = await readOrMakeEpoch(dir);
    this.acked = this.checkpointed = await readCheckpoint(dir);
    const { segments, last } = await recoverSegments(dir, this.acked, this.log);
    this.writer = new SegmentWriter(dir, this.opts.segmentBytes ?? 16 * 1024 * 1024);
    await this.writer.open(segments, last);
    this.durable = last;
    await this.writer.dropUpTo(this.checkpointed);
    await this.refreshHead();
    const interval = this.opts.fsyncIntervalMs ?? 0;
    if (interval > 0) this.scheduleSync(interval);
    this.running = true;
    this.log.info({ dir, lastSeq: last, ackedSeq: this.acked, segments: this.writer.segments.length }, 'outbox recovered');
  }

  /** Writes what is pending, syncs, writes the checkpoint and closes the files. */
  async stop(): Promise<void> {
    if (!this.writer) return;
    this.running = false;
    if (this.syncTimer !== undefined) this.clock.clearTimeout(this.syncTimer);
    this.syncDue = true;
    await this.kick();
    await this.checkpointing;
    await this.headRefresh;
    await this.writer.close();
    this.writer = undefined;
  }

  /**
   * Appends one message; resolves with its seq once durable (per the fsync policy). Resolves with 0 when
   * the capacity rule thinned the record (telemetry only): it is counted in stats().thinned and never sent.
   */
  append(msg: OutboxInput): Promise<number> {
    if (!this.running) return Promise.reject(new CodedError('ERR_OUTBOX_STOPPED', 'the outbox is not running'));
    if (this.writer?.broken) return Promise.reject(new CodedError('ERR_OUTBOX_BROKEN', 'a failed write left the segment unrepaired; restart to recover', { cause: this.writer.brokenCause }));
    const check = CHECKS[msg.type];
    if (!check) return Promise.reject(new CodedError('ERR_OUTBOX_TYPE', `unknown uplink type "${String(msg.type)}"`));
    try {
      check.assert(msg.data);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const now = this.clock.now();
    const used = this.usedBytes();
    if (this.rule.judge(msg.type, msg.data, used, now) === 'thin') {
      this.thinned++;
      return Promise.resolve(0);
    }
    const body = JSON.stringify({ type: msg.type, data: msg.data });
    const size = HEADER_BYTES + Buffer.byteLength(body, 'utf8') + SEQ_ALLOWANCE;
    if (size > MAX_BODY_BYTES) {
      return Promise.reject(new CodedError('ERR_OUTBOX_RECORD_TOO_LARGE', `record of ${size} bytes is over the ${MAX_BODY_BYTES} limit`));
    }
    if (this.pending.length === 0 && this.lastSeq === this.acked) this.headAt = now;
    this.pendingBytes += size;
    if (this.rule.crossedHighWater(used + size)) this.raiseHighWater(used + size, now);
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ type: msg.type, body, at: now, size, resolve, reject });
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
        const segs = this.writer?.segments.slice() ?? [];
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
    const depth = this.lastSeq - this.acked + this.pending.length;
    return {
      depth,
      oldestAgeMs: depth > 0 && this.headAt !== undefined ? Math.max(0, this.clock.now() - this.headAt) : 0,
      lastSeq: this.lastSeq,
      durableSeq: this.durable,
      ackedSeq: this.acked,
      bytes: this.usedBytes(),
      capacityBytes: this.rule.maxBytes,
      thinned: this.thinned,
      segments: this.writer?.segments.length ?? 0,
      writes: this.writes,
    };
  }

  private get lastSeq(): number {
    return this.writer?.writtenSeq ?? this.durable;
  }

  private usedBytes(): number {
    return Math.max(0, (this.writer?.end ?? 0) - this.headPos) + this.pendingBytes;
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
          if (this.lastSeq > this.durable) this.markDurable(await this.writer!.sync());
        }
      }
    } finally {
      this.flushRunning = false;
    }
  }

  private async writeBatch(): Promise<void> {
    const writer = this.writer!;
    const batch = this.takeBatch(writer.room());
    const alwaysSync = (this.opts.fsyncIntervalMs ?? 0) <= 0;
    try {
      const { first, last } = await writer.write(batch, alwaysSync);
      this.writes++;
      if (alwaysSync) this.markDurable(last);
      batch.forEach((p, i) => p.resolve(first + i));
    } catch (err) {
      this.log.error({ err, broken: writer.broken }, 'outbox write failed');
      for (const p of batch) p.reject(err as Error);
    }
  }

  /** Takes pending appends in order, as many as fit in `room` bytes (at least one), so segments roll on time. */
  private takeBatch(room: number): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length) {
      const size = HEADER_BYTES + this.pending[n]!.body.length + SEQ_ALLOWANCE;
      if (n > 0 && bytes + size > room) break;
      bytes += size;
      n++;
    }
    const batch = this.pending.splice(0, n);
    // From here the batch is counted by the segment's size (or, if the write fails, not at all).
    for (const p of batch) this.pendingBytes -= p.size;
    return batch;
  }

  private markDurable(seq: number): void {
    if (seq <= this.durable) return;
    this.durable = seq;
    for (const l of this.durableListeners) l(seq);
  }

  private scheduleSync(interval: number): void {
    this.syncTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.syncDue = true;
      void this.kick().catch((err) => this.log.error({ err }, 'interval sync failed'));
      this.scheduleSync(interval);
    }, interval);
  }

  /** Updates the position and age of the oldest unacknowledged record. */
  private refreshHead(): Promise<void> {
    const run = async (): Promise<void> => {
      const seq = this.acked + 1;
      const segments = this.writer?.segments ?? [];
      if (seq > this.lastSeq || segments.length === 0) {
        this.headPos = this.writer?.end ?? 0;
        this.headAt = this.pending[0]?.at;
        return;
      }
      const seg = segments[segmentIndexOf(segments, seq)];
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
        await this.writer?.dropUpTo(seq);
      }
    } catch (err) {
      this.log.error({ err }, 'outbox: writing the acked checkpoint failed; will retry on the next ack');
    } finally {
      this.checkpointRunning = false;
    }
  }
}
