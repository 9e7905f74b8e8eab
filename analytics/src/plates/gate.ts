/**
 * The per-character gate on plate reads, calibrated on the `plates` benchmark's calibration set
 * (`npm run bench -- plates calibrate 160 7`, BENCHMARKS.md): a read is reported only if every character
 * reaches `minChar` and the province reaches `minProvince`, or its own stricter threshold.
 *
 * 皖 is what the recogniser says for a province it cannot make out (issue #20 saw 皖 and 豫 as false readings
 * again and again): on the calibration set 7 of 13 reads of 皖 were other provinces (藏, 琼, 黑, 京, 冀), with
 * probabilities up to 0.995, while the 6 real ones read at 0.9999 or more.
 */
import type { PlateRead } from './reader.js';

export interface PlateGate {
  minChar: number;
  minProvince: number;
  /** Stricter province thresholds for provinces the recogniser falls back to. */
  province: Readonly<Record<string, number>>;
}

export const PLATE_GATE: PlateGate = { minChar: 0.8, minProvince: 0.9, province: { 皖: 0.999 } };

export function passesGate(read: Pick<PlateRead, 'plate' | 'minConfidence' | 'provinceConfidence'>, gate: PlateGate = PLATE_GATE): boolean {
  const province = [...read.plate][0] ?? '';
  return read.minConfidence >= gate.minChar && read.provinceConfidence >= Math.max(gate.minProvince, gate.province[province] ?? 0);
}
