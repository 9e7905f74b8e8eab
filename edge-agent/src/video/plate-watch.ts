/**
 * Plate reading for a camera that watches a barrier lane: frames are read with PP-OCRv4 (one read in flight,
 * at most every `everyMs`), and a plate seen again within `repeatMs` is not reported twice. A read becomes a
 * `vehicle.arrived` event *at the barrier* (device = the barrier), so the same linkage rules serve plates read
 * by the barrier itself and by a camera beside it. Plate text is personal data: the cloud keeps it per its
 * event retention (README, Limits).
 */
import type { PlateReader, RawFrame } from '@safe-community/analytics';

export interface PlateWatchOptions {
  camera: string;
  barrier: string;
  lane?: string;
  minConfidence: number;
  everyMs: number;
  repeatMs: number;
  now?: () => number;
}

export interface PlateSighting {
  barrier: string;
  payload: { plate: string; confidence: number; camera: string; lane?: string; reader: 'camera' };
}

export class PlateWatch {
  private busy = false;
  private lastReadAt = -Infinity;
  private readonly seen = new Map<string, number>();

  constructor(private readonly reader: PlateReader, private readonly opts: PlateWatchOptions) {}

  /** Reads the frame unless a read is running or one ran less than `everyMs` ago; null when nothing new. */
  async offer(frame: RawFrame): Promise<PlateSighting | null> {
    const now = (this.opts.now ?? Date.now)();
    if (this.busy || now - this.lastReadAt < this.opts.everyMs) return null;
    this.busy = true;
    this.lastReadAt = now;
    try {
      const read = await this.reader.read(frame);
      if (!read || !read.valid || read.confidence < this.opts.minConfidence) return null;
      const last = this.seen.get(read.plate);
      this.seen.set(read.plate, now);
      if (last !== undefined && now - last < this.opts.repeatMs) return null;
      for (const [plate, at] of this.seen) if (now - at > this.opts.repeatMs) this.seen.delete(plate);
      return {
        barrier: this.opts.barrier,
        payload: { plate: read.text, confidence: Math.round(read.confidence * 1000) / 1000, camera: this.opts.camera, reader: 'camera', ...(this.opts.lane ? { lane: this.opts.lane } : {}) },
      };
    } finally {
      this.busy = false;
    }
  }
}
