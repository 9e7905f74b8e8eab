import { iou } from './geometry.js';
import type { Box, NormDetection, TrackView } from './types.js';

export interface TrackerOptions {
  /** Detections at or above this score take part in the first association stage. */
  highScore?: number;
  /** Detections between lowScore and highScore may only extend existing tracks (second stage). */
  lowScore?: number;
  /** A new track starts only from an unmatched detection at or above this score. */
  newTrackScore?: number;
  /** Minimum IoU between a predicted track box and a high-score detection. */
  matchIou?: number;
  /** Minimum IoU in the second stage; stricter, since low-score boxes are often clutter. */
  lowMatchIou?: number;
  /** Consecutive matched frames before a track is reported (filters one-frame false positives). */
  minHits?: number;
  /** Frames a track may go unmatched (occlusion) before it is dropped; its id is kept meanwhile. */
  maxLost?: number;
  /** Match only detections of the same label. */
  classAware?: boolean;
}

type TrackState = 'tentative' | 'tracked' | 'lost';

interface Track {
  id: number;
  label: string;
  score: number;
  box: Box;
  /** Per-frame change of the four box coordinates, smoothed. */
  vel: Box;
  hits: number;
  lostFor: number;
  state: TrackState;
}

/**
 * Multi-object tracker with stable ids, after ByteTrack's two-stage association: high-score detections
 * first match all live tracks, then low-score detections (a person half hidden, blurred by motion) may
 * keep an already matched track alive instead of being thrown away. Boxes are predicted with a smoothed
 * constant velocity rather than a Kalman filter; at 5–10 fps with IoU gating this is enough and costs
 * nothing. Association is greedy by IoU (highest first), which equals Hungarian matching whenever boxes
 * do not overlap several candidates at once — the common case for people on a walkway.
 */
export class Tracker {
  private readonly o: Required<TrackerOptions>;
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(opts: TrackerOptions = {}) {
    this.o = {
      highScore: opts.highScore ?? 0.5,
      lowScore: opts.lowScore ?? 0.1,
      newTrackScore: opts.newTrackScore ?? 0.6,
      matchIou: opts.matchIou ?? 0.2,
      lowMatchIou: opts.lowMatchIou ?? 0.4,
      minHits: opts.minHits ?? 2,
      maxLost: opts.maxLost ?? 15,
      classAware: opts.classAware ?? true,
    };
  }

  /** Live tracks (including lost ones still remembered). */
  get size(): number {
    return this.tracks.length;
  }

  reset(): void {
    this.tracks = [];
  }

  /** Feeds one frame's detections; returns the confirmed tracks seen in this frame. */
  update(dets: readonly NormDetection[]): TrackView[] {
    for (const t of this.tracks) predict(t);
    const high = dets.filter((d) => d.score >= this.o.highScore);
    const low = dets.filter((d) => d.score >= this.o.lowScore && d.score < this.o.highScore);

    // Stage 1: confirmed and lost tracks against high-score detections.
    const established = this.tracks.filter((t) => t.state !== 'tentative');
    const s1 = this.associate(established, high, this.o.matchIou);
    // Stage 2: tracks that were tracked last frame and missed stage 1, against low-score detections.
    const leftTracked = s1.unmatchedTracks.filter((t) => t.state === 'tracked');
    const s2 = this.associate(leftTracked, low, this.o.lowMatchIou);
    // Stage 3: tentative tracks against the high-score detections nobody took.
    const tentative = this.tracks.filter((t) => t.state === 'tentative');
    const s3 = this.associate(tentative, s1.unmatchedDets, this.o.matchIou);

    const matched = new Set<Track>();
    for (const [t, d] of [...s1.pairs, ...s2.pairs, ...s3.pairs]) {
      correct(t, d);
      matched.add(t);
      if (t.state === 'tentative' ? t.hits >= this.o.minHits : true) t.state = 'tracked';
    }
    const kept: Track[] = [];
    for (const t of this.tracks) {
      if (matched.has(t)) {
        kept.push(t);
      } else if (t.state === 'tentative') {
        // A tentative track that misses a frame was most likely noise: drop it, as ByteTrack does.
      } else if (++t.lostFor <= this.o.maxLost) {
        t.state = 'lost';
        kept.push(t);
      }
    }
    for (const d of s3.unmatchedDets) {
      if (d.score < this.o.newTrackScore) continue;
      const t: Track = {
        id: this.nextId++, label: d.label, score: d.score, box: [...d.box], vel: [0, 0, 0, 0],
        hits: 1, lostFor: 0, state: this.o.minHits <= 1 ? 'tracked' : 'tentative',
      };
      kept.push(t);
    }
    this.tracks = kept;
    return kept
      .filter((t) => t.state === 'tracked' && t.lostFor === 0)
      .map((t) => ({ id: t.id, label: t.label, score: t.score, box: [...t.box], hits: t.hits }));
  }

  private associate(tracks: readonly Track[], dets: readonly NormDetection[], minIou: number) {
    const cand: Array<{ ti: number; di: number; iou: number }> = [];
    for (let ti = 0; ti < tracks.length; ti++) {
      const t = tracks[ti] as Track;
      for (let di = 0; di < dets.length; di++) {
        const d = dets[di] as NormDetection;
        if (this.o.classAware && d.label !== t.label) continue;
        const v = iou(t.box, d.box);
        if (v >= minIou) cand.push({ ti, di, iou: v });
      }
    }
    cand.sort((a, b) => b.iou - a.iou);
    const usedT = new Set<number>();
    const usedD = new Set<number>();
    const pairs: Array<[Track, NormDetection]> = [];
    for (const c of cand) {
      if (usedT.has(c.ti) || usedD.has(c.di)) continue;
      usedT.add(c.ti);
      usedD.add(c.di);
      pairs.push([tracks[c.ti] as Track, dets[c.di] as NormDetection]);
    }
    return {
      pairs,
      unmatchedTracks: tracks.filter((_, i) => !usedT.has(i)),
      unmatchedDets: dets.filter((_, i) => !usedD.has(i)),
    };
  }
}

function predict(t: Track): void {
  for (let i = 0; i < 4; i++) t.box[i] = (t.box[i] as number) + (t.vel[i] as number);
}

/** Moves the track onto its detection and updates the velocity from how far the prediction was off. */
function correct(t: Track, d: NormDetection): void {
  const frames = t.lostFor + 1;
  for (let i = 0; i < 4; i++) {
    // The box was already advanced by vel×frames in predict(); the innovation adjusts the velocity.
    const innovation = ((d.box[i] as number) - (t.box[i] as number)) / frames;
    t.vel[i] = (t.vel[i] as number) + 0.5 * innovation;
    t.box[i] = d.box[i] as number;
  }
  t.score = d.score;
  t.hits++;
  t.lostFor = 0;
}
