/**
 * One counting line with hysteresis. A track is on a side of the line only once its anchor has been beyond
 * a margin band for `minFrames` frames it was seen in; a crossing is a change of that confirmed side. The band
 * is measured in units of the track's own box height, because detector boxes end a few pixels below the
 * soles and jitter by a similar amount: a fixed fraction of the frame (5.8 px on vtest.avi) let feet walking
 * along a line count again and again (issue #20: 6 of 49 counted crossings were such doubles).
 *
 * A frame whose box is much shorter than the track's usual height (legs hidden by someone in front, a
 * detector glitch) says nothing about where the feet are: it neither confirms a side nor breaks a run, so
 * a one-frame occlusion no longer produces a false crossing and back, and the real crossing after it counts
 * once (issue #20: the hidden-legs double count).
 */
import { along, anchorOf, type Anchor } from './geometry.js';
import type { Point, TrackView } from './types.js';

export interface LineGeometry {
  a: Point;
  b: Point;
  /** Band half-width as a fraction of the track's box height. */
  marginHeights: number;
  /** Band half-width floor in normalised picture height (for tiny boxes). */
  marginMin: number;
  /** Frames beyond the band before a side counts. */
  minFrames: number;
}

interface TrackSide {
  /** Confirmed side: +1 right-hand, −1 left-hand looking from a to b; 0 not yet known. */
  side: number;
  /** Side the current run of frames is on, and how many frames it has. */
  runSide: number;
  run: number;
  /** Smoothed box height (picture-height units), to tell a cut-off box from a real one. */
  height: number;
  seenAt: number;
  /** The track as last seen, and whether that point was within the line's ends. */
  last: TrackView;
  within: boolean;
}

export interface Crossing {
  track: TrackView;
  /** +1 onto the right-hand side (looking from a to b), −1 onto the left-hand side. */
  side: number;
}

/** A box shorter than this share of the track's usual height does not place the feet (occlusion). */
const CUT_OFF_SHARE = 0.75;
/** Height smoothing per frame. */
const HEIGHT_EMA = 0.3;
/**
 * A track that was beyond the band for fewer than `minFrames` frames and then is not seen for this many
 * frames crossed and walked out of sight (or behind someone): its crossing counts then. On vtest.avi two
 * people crossing side by side merge into one box right after the line.
 */
const GONE_AFTER = 3;

export class LineCrossing {
  private readonly tracks = new Map<number, TrackSide>();

  constructor(private readonly line: LineGeometry, private readonly anchor: Anchor) {}

  /**
   * Feeds one frame's tracks; returns the crossings confirmed on this frame. `aspect` is the picture's
   * width / height, so distances are measured in true proportions (normalised x and y differ in pixels).
   */
  update(tracks: readonly TrackView[], aspect: number, evaluation: number): Crossing[] {
    const out: Crossing[] = [];
    const { a, b } = this.line;
    for (const t of tracks) {
      const h = t.box[3] - t.box[1];
      let s = this.tracks.get(t.id);
      if (!s) {
        s = { side: 0, runSide: 0, run: 0, height: h, seenAt: evaluation, last: t, within: false };
        this.tracks.set(t.id, s);
      }
      s.seenAt = evaluation;
      if (h < CUT_OFF_SHARE * s.height) continue; // cut-off box: no evidence either way
      s.height += HEIGHT_EMA * (h - s.height);
      const p = anchorOf(t.box, this.anchor);
      const d = distance(p, a, b, aspect);
      const margin = Math.max(this.line.marginMin, this.line.marginHeights * s.height);
      if (Math.abs(d) < margin) continue; // in the band: neither side, and the run goes on
      const side = d > 0 ? 1 : -1;
      if (side === s.runSide) s.run++;
      else { s.runSide = side; s.run = 1; }
      const pos = along(p, a, b);
      s.last = t;
      // Passing beyond the ends of the line is walking around it, not across it.
      s.within = pos >= 0 && pos <= 1;
      // The side a track is first seen on needs no confirmation: it is where it came from, not a crossing.
      if (s.side === 0) { s.side = side; continue; }
      if (s.run < this.line.minFrames || side === s.side) continue;
      s.side = side;
      if (s.within) out.push({ track: t, side });
    }
    for (const s of this.tracks.values()) {
      if (evaluation - s.seenAt !== GONE_AFTER || s.side === 0 || s.runSide === s.side) continue;
      s.side = s.runSide;
      if (s.within) out.push({ track: s.last, side: s.side });
    }
    return out;
  }

  /** Forgets tracks not seen for `keep` evaluations (far longer than a tracker keeps a lost id). */
  prune(evaluation: number, keep: number): void {
    for (const [id, s] of this.tracks) if (evaluation - s.seenAt > keep) this.tracks.delete(id);
  }
}

/**
 * Signed distance of p from the infinite line a→b in picture-height units (x scaled by the aspect ratio).
 * Positive is the right-hand side looking from a to b, in image coordinates (y down).
 */
function distance(p: Point, a: Point, b: Point, aspect: number): number {
  const dx = (b[0] - a[0]) * aspect;
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy) || 1;
  return (dx * (p[1] - a[1]) - dy * (p[0] - a[0]) * aspect) / len;
}
