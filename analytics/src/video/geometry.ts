import type { Box, ContentRect, Detection, NormDetection, Point } from './types.js';

// One intersection-over-union for the detector's NMS and the tracker's matching.
export { iou } from '../detection.js';

export type Anchor = 'bottom' | 'center';

/**
 * The point of a box that stands for the object. Bottom-centre (the feet of a person, the wheels of a
 * car) is where an object meets the ground, so zones and lines drawn on the ground behave as expected.
 */
export function anchorOf(box: Box, anchor: Anchor = 'bottom'): Point {
  const x = (box[0] + box[2]) / 2;
  return anchor === 'bottom' ? [x, box[3]] : [x, (box[1] + box[3]) / 2];
}

/** Even-odd ray casting; points on an edge may land either way, which is fine for pixels. */
export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const pi = poly[i] as Point;
    const pj = poly[j] as Point;
    if ((pi[1] > p[1]) !== (pj[1] > p[1]) && p[0] < ((pj[0] - pi[0]) * (p[1] - pi[1])) / (pj[1] - pi[1]) + pi[0]) {
      inside = !inside;
    }
  }
  return inside;
}

/**
 * Signed distance-like value of p from the infinite line a→b, normalised by |ab|. In image
 * coordinates (y down) a positive value is on the right-hand side when looking from a to b.
 */
export function sideOf(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy) || 1;
  return (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / len;
}

/** Position of p's projection along a→b: 0 at a, 1 at b. */
export function along(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy || 1;
  return ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
}

/**
 * Frame pixels → normalised source coordinates. Boxes are clipped to the picture, so a box that
 * reaches into letterbox padding ends at the picture's edge.
 */
export function normaliseDetections(dets: readonly Detection[], content: ContentRect): NormDetection[] {
  const out: NormDetection[] = [];
  const cw = content.width;
  const ch = content.height;
  for (const d of dets) {
    const x1 = clamp01(d.box[0] / cw);
    const y1 = clamp01(d.box[1] / ch);
    const x2 = clamp01(d.box[2] / cw);
    const y2 = clamp01(d.box[3] / ch);
    if (x2 > x1 && y2 > y1) out.push({ label: d.label, score: d.score, box: [x1, y1, x2, y2] });
  }
  return out;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
