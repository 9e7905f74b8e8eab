/**
 * Recovery at start: every segment is scanned (length, CRC, dense seqs); a torn tail of the newest segment
 * — a write cut short by kill -9 or a power cut — is truncated, since no append it held had resolved
 * (appends resolve only after their fdatasync). Damage anywhere else is corruption and stops the start
 * with ERR_OUTBOX_CORRUPT rather than silently leaving a gap the cloud would refuse forever.
 */
import { open, unlink } from 'node:fs/promises';
import { CodedError, type Logger } from '@safe-community/runtime';
import { listSegmentFiles, scanSegment, type Segment } from './segments.js';

/** A segment with its start in the virtual log of all bytes written (for the bytes-in-use figure). */
export type LiveSegment = Segment & { base: number };

export async function recoverSegments(dir: string, ackedSeq: number, log: Logger): Promise<{ segments: LiveSegment[]; last: number }> {
  const segments: LiveSegment[] = [];
  let base = 0;
  let last = ackedSeq;
  const files = await listSegmentFiles(dir);
  for (const [idx, file] of files.entries()) {
    const scan = await scanSegment(file.path, file.firstSeq);
    const seg: LiveSegment = { ...scan.segment, base };
    if (scan.truncatedAt !== undefined) {
      // Only the newest segment can end torn: a segment is synced before the next one is started.
      if (idx !== files.length - 1) {
        throw new CodedError('ERR_OUTBOX_CORRUPT', `segment ${file.path} is damaged at byte ${scan.truncatedAt} (${scan.reason})`);
      }
      log.warn({ segment: file.path, at: scan.truncatedAt, reason: scan.reason }, 'outbox: truncating torn tail');
      await truncateFile(file.path, scan.truncatedAt);
    }
    const prev = segments.at(-1);
    if (seg.lastSeq < seg.firstSeq && prev) {
      await unlink(seg.path);
      continue;
    }
    if (prev && seg.firstSeq !== prev.lastSeq + 1) {
      throw new CodedError('ERR_OUTBOX_CORRUPT', `segment ${file.path} starts at seq ${seg.firstSeq} but seq ${prev.lastSeq + 1} was due`);
    }
    segments.push(seg);
    base += seg.size;
    last = Math.max(last, seg.lastSeq);
  }
  return { segments, last };
}

async function truncateFile(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(at);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
