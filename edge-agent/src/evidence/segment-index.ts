/**
 * The ring buffer's index of one camera: which segment files exist and the wall-clock span each holds.
 *
 * ffmpeg's segment muxer prints a list line (`name,start,end`, seconds on the stream's own timeline) the
 * instant it closes a segment, which is when the keyframe that opens the next one arrives. The wall clock
 * at that moment minus `end` is therefore the wall time of the stream's zero plus a small, positive delay
 * (pipe, event loop). The smallest such difference seen in one ffmpeg run is the best estimate of that
 * run's zero, so every segment's wall start is `zero + start`: pre-roll is measured from real times, not
 * from file mtimes or names with whole seconds.
 */
export interface Segment {
  /** Absolute path of the segment file. */
  file: string;
  /** Wall-clock start and end (epoch ms). */
  startMs: number;
  endMs: number;
  bytes: number;
}

export interface ListLine {
  name: string;
  start: number;
  end: number;
}

/** Parses one CSV line of ffmpeg's segment list; null for anything else. */
export function parseListLine(line: string): ListLine | null {
  const m = /^(.+),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(line.trim());
  if (!m) return null;
  const start = Number(m[2]);
  const end = Number(m[3]);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return null;
  return { name: m[1]!, start, end };
}

/** Turns one ffmpeg run's list lines into wall-clock segments (see the header). */
export class RunClock {
  private zeroMs = Infinity;
  /** Segments placed so far in this run. */
  placed = 0;

  /** Called when a line arrives at `arrivedMs`; returns the segment's wall span. */
  place(line: ListLine, arrivedMs: number): { startMs: number; endMs: number } {
    this.zeroMs = Math.min(this.zeroMs, arrivedMs - line.end * 1000);
    this.placed++;
    return { startMs: Math.round(this.zeroMs + line.start * 1000), endMs: Math.round(this.zeroMs + line.end * 1000) };
  }
}

export interface PruneLimits {
  /** Keep segments that end within this many ms before `now`. */
  keepMs: number;
  maxBytes: number;
  /** Segments ending after this wall time are kept whatever `keepMs` says (a clip still to be cut needs them). */
  holdFromMs?: number;
}

export class SegmentIndex {
  private segments: Segment[] = [];

  add(segment: Segment): void {
    this.segments.push(segment);
    this.segments.sort((a, b) => a.startMs - b.startMs);
  }

  list(): readonly Segment[] {
    return this.segments;
  }

  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** The newest segment's end, or 0. */
  get recordedUpToMs(): number {
    return this.segments.reduce((max, s) => Math.max(max, s.endMs), 0);
  }

  /**
   * The segments a clip of [fromMs, toMs] needs: from the last one starting at or before `fromMs` (so the
   * clip opens on that segment's keyframe, before the asked start) to the first one reaching `toMs`.
   */
  covering(fromMs: number, toMs: number): Segment[] {
    const inside = this.segments.filter((s) => s.endMs > fromMs && s.startMs < toMs);
    return inside;
  }

  /**
   * Removes (and returns, for deletion) what falls outside the limits: older than `keepMs` unless held,
   * then the oldest until the bytes fit (bytes are a hard bound: a hold never lets the disk fill).
   */
  prune(nowMs: number, limits: PruneLimits): Segment[] {
    const hold = limits.holdFromMs ?? Infinity;
    const removed: Segment[] = [];
    this.segments = this.segments.filter((s) => {
      const old = s.endMs < nowMs - limits.keepMs && s.endMs < hold;
      if (old) removed.push(s);
      return !old;
    });
    let total = this.bytes;
    while (total > limits.maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift()!;
      total -= oldest.bytes;
      removed.push(oldest);
    }
    return removed;
  }
}
