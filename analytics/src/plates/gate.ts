/**
 * The gates on plate reads, calibrated on the `plates` benchmark's calibration seeds (BENCHMARKS.md):
 *
 * - **One frame** (`passesGate`): every character's evidence (`evidence`) reaches `minChar`, the
 *   province's `minProvince`, and a character listed in `strict` its own higher threshold.
 * - **A vote across frames** (vote.ts): per position, the winning character's evidence summed over the
 *   vehicle's frames reaches `minSupport` (`minProvinceSupport` for the province), one frame read it at
 *   `minClear` or better, and a `strict` character reached its threshold in as many frames as the vote
 *   needs to agree. A character read at 0.6 in three frames and 0.85 in a fourth is as sure as one read at
 *   0.9 twice; the single-frame gate threw that evidence away (issue #20: small plates missed with the right
 *   plate in every frame and one character at 0.5–0.8).
 *
 * The province's evidence is its probability among the provinces (grammar.ts, `inSet`): the position can
 * hold nothing else. On the calibration seeds, of 2,378 single-frame reads of a right province (other than
 * the strict ones below) 2,132 reach 0.9 by the recogniser's probability and 2,304 among the provinces;
 * none of the 12 wrong ones reaches 0.9 either way.
 *
 * `strict` lists what the recogniser says when it cannot read a character, and look-alikes it confuses with
 * confidence (calibration seeds 22–27, 3,000 frames). They are judged on the recogniser's own probability,
 * and a strict province below its threshold is a guess that takes no part in a vote.
 * - 皖 is its guess for a province it cannot make out (issue #20 saw 皖 and 豫 as false readings again and
 *   again): 45 of 125 reads of 皖 were other provinces, up to 0.99, while real ones read at 0.999 or more.
 * - 豫: 7 of 70 reads were other provinces (蒙 at 0.89–0.94 in every frame of one vehicle).
 * - 湘: 4 of 56 were other provinces (渝, 浙) at 0.38–0.45, 0.96 among the provinces.
 * - 1: J in a narrow sans font reads as 1 at up to 0.994 (15 wrong reads, three vehicles, every frame);
 *   at 0.99 and above 1,235 of 1,254 real 1s remain and one wrong read.
 */
import type { PlateChar } from './grammar.js';

export interface PlateGate {
  minChar: number;
  minProvince: number;
  /** Higher thresholds for characters the recogniser falls back to or confuses. */
  strict: Readonly<Record<string, number>>;
  /** A vote's winning character at a position: its evidence summed over the frames that read it. */
  minSupport: number;
  minProvinceSupport: number;
  /** A vote's winning character must have been read this clearly in at least one frame. */
  minClear: number;
}

export const PLATE_GATE: PlateGate = {
  minChar: 0.8,
  minProvince: 0.9,
  strict: { 皖: 0.999, 豫: 0.95, 湘: 0.9, 1: 0.99 },
  minSupport: 1.4,
  minProvinceSupport: 1.6,
  minClear: 0.8,
};

/** How sure a read is of the character at position `i`: the province among the provinces, unless strict. */
export function evidence(gate: PlateGate, c: PlateChar, i: number): number {
  return i === 0 && c.inSet !== undefined && gate.strict[c.char] === undefined ? c.inSet : c.p;
}

/** The threshold one frame's character at position `i` must reach. */
export function charThreshold(gate: PlateGate, char: string, i: number): number {
  return Math.max(i === 0 ? gate.minProvince : gate.minChar, gate.strict[char] ?? 0);
}

/** A strict province read below its threshold: the recogniser's guess, not a reading. */
export function isGuess(gate: PlateGate, c: PlateChar, i: number): boolean {
  const strict = gate.strict[c.char];
  return i === 0 && strict !== undefined && c.p < strict;
}

export function passesGate(read: { chars: readonly PlateChar[] }, gate: PlateGate = PLATE_GATE): boolean {
  return read.chars.length > 0 && read.chars.every((c, i) => evidence(gate, c, i) >= charThreshold(gate, c.char, i));
}
