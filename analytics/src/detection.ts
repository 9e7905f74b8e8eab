/** The detector's output and the small geometry every decoder shares. */

/** [x1, y1, x2, y2] in source pixels. */
export type Box = [number, number, number, number];

export interface Detection {
  /** Class index in the model's label list. */
  cls: number;
  label: string;
  score: number;
  box: Box;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression, per class (a person box never suppresses an overlapping bicycle box).
 * Input in any order; output sorted by score, highest first.
 */
export function nms<T extends { cls: number; score: number; box: Box }>(items: T[], iouThreshold: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const cand of sorted) {
    if (!kept.some((k) => k.cls === cand.cls && iou(k.box, cand.box) > iouThreshold)) kept.push(cand);
  }
  return kept;
}

/** Clamps a box to the image and rounds to 0.1 px. */
export function clampBox(box: Box, width: number, height: number): Box {
  const c = (v: number, max: number) => Math.round(Math.min(max, Math.max(0, v)) * 10) / 10;
  return [c(box[0], width), c(box[1], height), c(box[2], width), c(box[3], height)];
}
