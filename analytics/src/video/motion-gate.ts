import { CodedError } from '@safe-community/runtime';
import type { Frame } from './types.js';

export interface MotionGateOptions {
  /** Width of the grey thumbnail that frames are compared on; height follows the picture's aspect. */
  gridWidth?: number;
  /** Grey-level change (0..255) of a thumbnail cell that counts as changed. */
  cellThreshold?: number;
  /** Share of cells that must change for the frame to count as motion. */
  minChangedFraction?: number;
  /**
   * Run the detector at least every this many frames even on a static scene, so someone standing still
   * (a loiterer) keeps a fresh detection and the tracker does not age them out.
   */
  maxSkipFrames?: number;
}

export interface MotionDecision {
  /** True when the detector should run on this frame. */
  run: boolean;
  /** Share of thumbnail cells that changed since the last frame. */
  changed: number;
  /** True when the frame runs only because of maxSkipFrames. */
  forced: boolean;
}

/**
 * Cheap motion test: block-average each frame into a small grey thumbnail of the picture (letterbox
 * padding left out) and count the cells that moved since the previous frame. Costs well under a
 * millisecond at detector sizes, against tens of ms for inference.
 */
export class MotionGate {
  private readonly gridWidth: number;
  private readonly cellThreshold: number;
  private readonly minChanged: number;
  private readonly maxSkip: number;
  private prev: Float32Array | undefined;
  private skipped = 0;

  constructor(opts: MotionGateOptions = {}) {
    this.gridWidth = opts.gridWidth ?? 64;
    this.cellThreshold = opts.cellThreshold ?? 12;
    this.minChanged = opts.minChangedFraction ?? 0.002;
    this.maxSkip = opts.maxSkipFrames ?? 10;
    if (!(this.gridWidth >= 4)) throw new CodedError('ERR_MOTION_OPTIONS', 'gridWidth must be at least 4');
  }

  reset(): void {
    this.prev = undefined;
    this.skipped = 0;
  }

  check(frame: Frame): MotionDecision {
    const thumb = this.thumbnail(frame);
    const prev = this.prev;
    this.prev = thumb;
    if (!prev || prev.length !== thumb.length) {
      this.skipped = 0;
      return { run: true, changed: 1, forced: false };
    }
    let changed = 0;
    for (let i = 0; i < thumb.length; i++) {
      if (Math.abs((thumb[i] as number) - (prev[i] as number)) > this.cellThreshold) changed++;
    }
    const fraction = changed / thumb.length;
    if (fraction >= this.minChanged) {
      this.skipped = 0;
      return { run: true, changed: fraction, forced: false };
    }
    if (++this.skipped > this.maxSkip) {
      this.skipped = 0;
      return { run: true, changed: fraction, forced: true };
    }
    return { run: false, changed: fraction, forced: false };
  }

  private thumbnail(frame: Frame): Float32Array {
    const cw = Math.min(frame.content.width, frame.width);
    const ch = Math.min(frame.content.height, frame.height);
    const gw = Math.min(this.gridWidth, cw);
    const cell = cw / gw;
    const gh = Math.max(1, Math.floor(ch / cell));
    const out = new Float32Array(gw * gh);
    const stride = frame.width * 3;
    const data = frame.data;
    // Every second pixel of every second row is enough for a block mean and halves the cost again.
    for (let gy = 0; gy < gh; gy++) {
      const y0 = Math.floor(gy * cell);
      const y1 = Math.min(ch, Math.floor((gy + 1) * cell));
      for (let gx = 0; gx < gw; gx++) {
        const x0 = Math.floor(gx * cell);
        const x1 = Math.min(cw, Math.floor((gx + 1) * cell));
        let sum = 0;
        let n = 0;
        for (let y = y0; y < y1; y += 2) {
          let p = y * stride + x0 * 3;
          for (let x = x0; x < x1; x += 2, p += 6) {
            // Integer luma approximation (R + 2G + B) / 4.
            sum += (data[p] as number) + 2 * (data[p + 1] as number) + (data[p + 2] as number);
            n++;
          }
        }
        out[gy * gw + gx] = n ? sum / (4 * n) : 0;
      }
    }
    return out;
  }
}
