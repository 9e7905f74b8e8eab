/**
 * Plate reading for a camera that watches a barrier lane. Frames come at the camera's full resolution (the
 * plate feed, plate-feed.ts), one read in flight, at most every `everyMs`. The reads of one vehicle are voted
 * across frames (analytics PlateVote) and the vehicle is reported once, when `minAgree` frames read the
 * voted plate and every position's evidence across the frames passes the gate (analytics gate.ts); a plate seen again within `repeatMs` is not reported
 * twice. A report becomes a `vehicle.arrived` event *at the barrier* (device = the barrier), so the same
 * linkage rules serve plates read by the barrier itself and by a camera beside it. Plate text is personal
 * data: the cloud keeps it per its event retention (README, Limits).
 */
import { PLATE_GATE, PlateVote, type PlateReader, type RawFrame } from '@safe-community/analytics';

export interface PlateWatchOptions {
  camera: string;
  barrier: string;
  lane?: string;
  /** Mean character evidence the voted plate must reach (on top of the per-position gate). */
  minConfidence: number;
  everyMs: number;
  repeatMs: number;
  /** Frames that must read the same plate. Default 2. */
  minAgree?: number;
  now?: () => number;
}

export interface PlateSighting {
  barrier: string;
  payload: { plate: string; confidence: number; frames: number; camera: string; lane?: string; reader: 'camera' };
}

export class PlateWatch {
  private busy = false;
  private lastReadAt = -Infinity;
  private readonly seen = new Map<string, number>();
  private readonly vote: PlateVote;

  constructor(private readonly reader: PlateReader, private readonly opts: PlateWatchOptions) {
    this.vote = new PlateVote({ minAgree: opts.minAgree ?? 2, minConfidence: opts.minConfidence, gate: PLATE_GATE });
  }

  /** Reads the frame unless a read is running or one ran less than `everyMs` ago; null when nothing new. */
  async offer(frame: RawFrame): Promise<PlateSighting | null> {
    const now = (this.opts.now ?? Date.now)();
    if (this.busy || now - this.lastReadAt < this.opts.everyMs) return null;
    this.busy = true;
    this.lastReadAt = now;
    try {
      const read = (await this.reader.readPlates(frame))[0];
      if (!read) return null;
      const voted = this.vote.add(read, now);
      if (!voted) return null;
      const last = this.seen.get(voted.plate);
      this.seen.set(voted.plate, now);
      for (const [plate, at] of this.seen) if (now - at > this.opts.repeatMs) this.seen.delete(plate);
      if (last !== undefined && now - last < this.opts.repeatMs) return null;
      return {
        barrier: this.opts.barrier,
        payload: {
          plate: voted.plate, confidence: voted.confidence, frames: voted.frames, camera: this.opts.camera, reader: 'camera',
          ...(this.opts.lane ? { lane: this.opts.lane } : {}),
        },
      };
    } finally {
      this.busy = false;
    }
  }
}
