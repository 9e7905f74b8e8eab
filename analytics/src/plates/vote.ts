/**
 * Voting across frames: a vehicle at a barrier is seen in many frames, and one frame's misread (a province
 * read as 皖, a digit lost to blur) should not decide. The reads of one vehicle are combined per position,
 * each character weighted by its probability, and the vehicle is reported once, when enough frames that
 * each pass the per-character gate read exactly the voted plate (issue #20, point 4).
 *
 * Without a vehicle track, one vehicle is the run of reads with no gap longer than `gapMs`; a read that
 * differs from the running vote in more than half its positions starts a new vehicle (the next car).
 */
import type { PlateRead } from './reader.js';
import { passesGate, type PlateGate } from './gate.js';

export interface PlateVoteOptions {
  /** Frames that must read exactly the voted plate before it is reported. Default 2. */
  minAgree?: number;
  /** Reads further apart than this belong to different vehicles. Default 3000 ms. */
  gapMs?: number;
  /**
   * The gate each agreeing frame must pass on its own: every character, and the province. One confident
   * frame does not carry weak ones (a blurred province read as 皖 at 0.99 once and 0.6 twice is no plate).
   */
  gate: PlateGate;
  /** Share of the position's total weight the winning character must have. Default 0.6. */
  minShare?: number;
}

export interface VotedPlate {
  plate: string;
  text: string;
  /** Frames that read exactly this plate and passed the gate, and frames read for this vehicle. */
  frames: number;
  reads: number;
  /** Per position: the best probability among agreeing frames. */
  chars: Array<{ char: string; p: number; share: number }>;
  confidence: number;
  minConfidence: number;
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
    const gap = this.opts.gapMs ?? 3000;
    let v = this.vehicle;
    if (v && (at - v.lastAt > gap || differs(read.plate, this.tally(v.reads).plate))) v = null;
    if (!v) this.vehicle = v = { lastAt: at, reads: [], reported: false };
    v.lastAt = at;
    v.reads.push(read);
    if (v.reported) return null;
    const voted = this.tally(v.reads);
    if (voted.frames < (this.opts.minAgree ?? 2)) return null;
    const minShare = this.opts.minShare ?? 0.6;
    if (voted.chars.some((c) => c.share < minShare)) return null;
    v.reported = true;
    return voted;
  }

  /** The vote so far over some reads (all of one vehicle). */
  tally(reads: readonly PlateRead[]): VotedPlate {
    // the plate length with the most weight wins; positions are compared within that length
    const byLength = new Map<number, PlateRead[]>();
    for (const r of reads) byLength.set(r.chars.length, [...(byLength.get(r.chars.length) ?? []), r]);
    const weight = (rs: PlateRead[]) => rs.reduce((s, r) => s + r.confidence, 0);
    const group = [...byLength.values()].sort((a, b) => weight(b) - weight(a))[0] ?? [];
    const n = group[0]?.chars.length ?? 0;
    const winners: string[] = [];
    const shares: number[] = [];
    for (let i = 0; i < n; i++) {
      const w = new Map<string, number>();
      let total = 0;
      for (const r of group) {
        const c = r.chars[i]!;
        w.set(c.char, (w.get(c.char) ?? 0) + c.p);
        total += c.p;
      }
      const [char, best] = [...w].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
      winners.push(char);
      shares.push(total > 0 ? best / total : 0);
    }
    const plate = winners.join('');
    const agreeing = group.filter((r) => r.plate === plate && passesGate(r, this.opts.gate));
    const chars = winners.map((char, i) => ({
      char, share: round3(shares[i]!), p: round3(Math.max(0, ...agreeing.map((r) => r.chars[i]!.p))),
    }));
    const best = [...agreeing].sort((a, b) => b.confidence - a.confidence)[0] ?? group[0]!;
    const ps = chars.map((c) => c.p);
    return {
      plate, text: `${plate.slice(0, 2)}·${plate.slice(2)}`, frames: agreeing.length, reads: reads.length, chars,
      confidence: round3(ps.reduce((a, b) => a + b, 0) / Math.max(1, ps.length)), minConfidence: round3(Math.min(...ps)), read: best,
    };
  }
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
