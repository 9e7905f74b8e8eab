/**
 * The dead-letter record: every refused or undecodable input is appended as one JSON line to
 * `<dataDir>/dead-letter.jsonl`, counted by reason, and handed to an optional callback. Payloads are kept
 * (base64, truncated) so an operator can see what a device sent; credentials are never recorded. The file
 * is rotated by size (`dead-letter.jsonl.1` … `.<keep>`, oldest dropped), so a device flooding the broker
 * with refused messages cannot fill the box's disk.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '@safe-community/runtime';

/** How much of a refused payload is kept in the record. */
const KEEP_BYTES = 1024;

export interface DeadLetter {
  at: string;
  /** Stable reason code, e.g. ERR_ACL_PUBLISH, ERR_PAYLOAD_TOO_LARGE, ERR_RATE_LIMITED, ERR_DECODE. */
  reason: string;
  detail: string;
  device?: string;
  clientId?: string;
  topic?: string;
  bytes?: number;
  /** First KEEP_BYTES of the payload, base64. */
  payload?: string;
}

export interface DeadLetterInput {
  reason: string;
  detail: string;
  device?: string;
  clientId?: string;
  topic?: string;
  payload?: Buffer;
}

export interface DeadLetterRotation {
  /** Rotate once the file reaches this size. Default 16 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 3. */
  keep?: number;
}

export class DeadLetterLog {
  readonly file: string;
  private stream: WriteStream | null = null;
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(rec: DeadLetter) => void>();

  constructor(dataDir: string, private readonly now: () => number = Date.now, rotation: DeadLetterRotation = {}) {
    this.file = join(dataDir, 'dead-letter.jsonl');
    this.maxBytes = rotation.maxBytes ?? 16 * 1024 * 1024;
    this.keep = Math.max(1, rotation.keep ?? 3);
  }

  async start(): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true, mode: 0o700 });
    this.bytes = await stat(this.file).then((s) => s.size, () => 0);
    // 0600: refused payloads may be residents' positions and vitals (issue 13 found the folder world-readable).
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) => reject(new CodedError('ERR_DEAD_LETTER_OPEN', `cannot open ${this.file}`, { cause: err })));
    });
    this.stream = stream;
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }

  onRecord(listener: (rec: DeadLetter) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(input: DeadLetterInput): DeadLetter {
    const rec: DeadLetter = { at: new Date(this.now()).toISOString(), reason: input.reason, detail: input.detail.slice(0, 512) };
    if (input.device !== undefined) rec.device = input.device;
    if (input.clientId !== undefined) rec.clientId = input.clientId;
    if (input.topic !== undefined) rec.topic = input.topic.slice(0, 256);
    if (input.payload !== undefined) {
      rec.bytes = input.payload.length;
      rec.payload = input.payload.subarray(0, KEEP_BYTES).toString('base64');
    }
    this.count(rec.reason);
    // A stopped log still counts and notifies: refusals during shutdown are not worth a crash.
    if (this.stream) {
      const line = `${JSON.stringify(rec)}\n`;
      this.stream.write(line);
      this.bytes += Buffer.byteLength(line);
      if (this.bytes >= this.maxBytes) this.rotate();
    }
    for (const l of this.listeners) {
      try {
        l(rec);
      } catch {
        // A faulty listener must not turn a refusal into a broker crash; the record is already written.
        this.count('ERR_DEAD_LETTER_LISTENER');
      }
    }
    return rec;
  }

  /**
   * Shifts `.1`… up by one (the oldest beyond `keep` is removed) and starts a new file. The old stream still
   * flushes what it holds into the renamed file: a rename does not move an open file's writes.
   */
  private rotate(): void {
    const old = this.stream!;
    // The file of the last rotation is not open yet: rotate once it is (the next record checks again).
    if (old.pending) return;
    try {
      rmSync(`${this.file}.${this.keep}`, { force: true });
      for (let i = this.keep - 1; i >= 1; i--) {
        try {
          renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      renameSync(this.file, `${this.file}.1`);
    } catch {
      // A failed rotation keeps writing where it was; the next record tries again.
      return;
    }
    old.end();
    this.stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => this.count('ERR_DEAD_LETTER_WRITE'));
    this.bytes = 0;
  }

  private count(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** Counts by reason since start. */
  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
