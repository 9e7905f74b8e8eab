/**
 * Voting across frames: a vehicle at a barrier is seen in many frames, and one frame's misread (a province
 * read as 皖, a digit lost to blur) should not decide, nor should one frame's doubt about a character that
 * every other frame reads the same (issue #20, point 4). The reads of one vehicle are combined per
 * position, each character weighted by its evidence (gate.ts: the province among the provinces), a strict
 * province read below its threshold (the recogniser's guess) not counting, and the vehicle is reported
 * once, when
 *
 * - at least `minAgree` frames read exactly the voted plate, and its mean evidence reaches `minConfidence`;
 * - at every position the winner holds `minShare` of the weight, its summed evidence reaches the gate's
 *   `minSupport` (`minProvinceSupport` for the province), and one frame read it at `minClear` or better;
 * - a character the gate lists as `strict` reached its threshold in `minAgree` frames.
 *
 * Without a vehicle track, one vehicle is the run of reads with no gap longer than `gapMs`; a read that
 * differs from the running vote in more than half its positions starts a new vehicle (the next car).
 */
import type { PlateRead } from './reader.js';
import { evidence, isGuess, type PlateGate } from './gate.js';

export interface PlateVoteOptions {
  /** Frames that must read exactly the voted plate before it is reported. Default 2. */
  minAgree?: number;
  /** Reads further apart than this belong to different vehicles. Default 3000 ms. */
  gapMs?: number;
  /** The calibrated thresholds (gate.ts, PLATE_GATE). */
  gate: PlateGate;
  /** Share of the position's total weight the winning character must have. Default 0.7. */
  minShare?: number;
  /** The voted plate's mean evidence (of each position's best frame) must reach this. Default 0. */
  minConfidence?: number;
  /** Reads whose weakest character's evidence is below this take no part (a frame of motion blur). Default 0.3. */
  floor?: number;
}

export interface VotedPlate {
  plate: string;
  text: string;
  /** Frames that read exactly this plate, and frames read for this vehicle. */
  frames: number;
  reads: number;
  /** Per position: the best evidence among the frames that read it, its summed evidence and its share of the weight. */
  chars: Array<{ char: string; p: number; support: number; share: number }>;
  confidence: number;
  minConfidence: number;
  /** The most confident frame that read exactly this plate (else the first frame of the voted length). */
  read: PlateRead;
}

interface Vehicle {
  lastAt: number;
  reads: PlateRead[];
  reported: boolean;
}

export class PlateVote {
  private vehicle: Vehicle | null = null;

  constructor(private readonly opts: PlateVoteOptions) {}

  /** Adds one frame's read; returns the vehicle's plate the first time the vote is good enough, else null. */
  add(read: PlateRead, at: number): VotedPlate | null {
    if (read.chars.some((c, i) => evidence(this.opts.gate, c, i) < (this.opts.floor ?? 0.3))) return null;
    const gap = this.opts.gapMs ?? 3000;
    let v = this.vehicle;
    if (v && (at - v.lastAt > gap || differs(read.plate, this.tally(v.reads).plate))) v = null;
    if (!v) this.vehicle = v = { lastAt: at, reads: [], reported: false };
    v.lastAt = at;
    v.reads.push(read);
    if (v.reported) return null;
    const voted = this.tally(v.reads);
    if (!this.enough(voted, v.reads)) return null;
    v.reported = true;
    return voted;
  }

  /** The vote so far over some reads (all of one vehicle). */
  tally(reads: readonly PlateRead[]): VotedPlate {
    const group = votedLength(reads);
    const n = group[0]?.chars.length ?? 0;
    const chars: VotedPlate['chars'] = [];
    for (let i = 0; i < n; i++) {
      const weight = new Map<string, { support: number; p: number }>();
      let total = 0;
      for (const r of group) {
        const c = r.chars[i]!;
        // a guess names the character but adds nothing to its support (nor to the position's weight)
        const e = isGuess(this.opts.gate, c, i) ? 0 : evidence(this.opts.gate, c, i);
        const w = weight.get(c.char) ?? { support: 0, p: 0 };
        w.support += e;
        w.p = Math.max(w.p, e);
        weight.set(c.char, w);
        total += e;
      }
      const [char, w] = [...weight].sort((a, b) => b[1].support - a[1].support)[0] ?? ['', { support: 0, p: 0 }];
      chars.push({ char, p: round3(w.p), support: round3(w.support), share: round3(total > 0 ? w.support / total : 0) });
    }
    const plate = chars.map((c) => c.char).join('');
    const agreeing = group.filter((r) => r.plate === plate);
    const best = [...agreeing].sort((a, b) => b.confidence - a.confidence)[0] ?? group[0]!;
    const ps = chars.map((c) => c.p);
    return {
      plate, text: `${plate.slice(0, 2)}·${plate.slice(2)}`, frames: agreeing.length, reads: reads.length, chars,
      confidence: round3(ps.reduce((a, b) => a + b, 0) / Math.max(1, ps.length)), minConfidence: round3(Math.min(...ps)), read: best,
    };
  }

  /** Whether a vote is good enough to report (the rules in this file's comment). */
  private enough(voted: VotedPlate, reads: readonly PlateRead[]): boolean {
    const { gate } = this.opts;
    const minAgree = this.opts.minAgree ?? 2;
    const minShare = this.opts.minShare ?? 0.7;
    if (voted.frames < minAgree || voted.confidence < (this.opts.minConfidence ?? 0)) return false;
    return voted.chars.every((c, i) => {
      if (c.share < minShare || c.p < gate.minClear) return false;
      if (c.support < (i === 0 ? gate.minProvinceSupport : gate.minSupport)) return false;
      const strict = gate.strict[c.char];
      return strict === undefined || reads.filter((r) => r.chars.length === voted.chars.length && r.chars[i]!.char === c.char && r.chars[i]!.p >= strict).length >= minAgree;
    });
  }
}

/** The reads of the plate length with the most weight (positions are compared within one length). */
function votedLength(reads: readonly PlateRead[]): PlateRead[] {
  const byLength = new Map<number, PlateRead[]>();
  for (const r of reads) byLength.set(r.chars.length, [...(byLength.get(r.chars.length) ?? []), r]);
  const weight = (rs: PlateRead[]) => rs.reduce((s, r) => s + r.confidence, 0);
  return [...byLength.values()].sort((a, b) => weight(b) - weight(a))[0] ?? [];
}

/** More than half the positions differ (or the lengths differ by more than one): another vehicle. */
function differs(a: string, b: string): boolean {
  const ca = [...a], cb = [...b];
  if (Math.abs(ca.length - cb.length) > 1) return true;
  let same = 0;
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] === cb[i]) same++;
  return same < Math.max(ca.length, cb.length) / 2;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
