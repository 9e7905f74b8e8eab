/**
 * Text regions → text lines as oriented quadrilaterals. A plate's separator dot, or the gap between its
 * province-and-letter group and the rest, can split one line into two regions; regions lying on one axis
 * with a gap under about a line height are merged, whatever the line's roll, and the merged pixels give the
 * line's oriented rectangle.
 */
import { orientedRect, type Quad } from './quad.js';
import type { TextRegion } from './db.js';

export interface TextQuad {
  /** Corners in source pixels, reading order. */
  quad: Quad;
  /** Length along the reading direction and height across it, in source pixels. */
  width: number;
  height: number;
  /** Roll of the line in radians (positive: clockwise in the image). */
  angle: number;
}

interface Group {
  xs: number[];
  ys: number[];
  rect: ReturnType<typeof orientedRect>;
}

/** Regions (in map pixels) → line quads in source pixels, grown by DB's unclip distance. */
export function textQuads(regions: readonly TextRegion[], scaleX: number, scaleY: number, unclip: number): TextQuad[] {
  let groups: Group[] = regions.map((r) => {
    const xs = Array.from(r.xs, (x) => (x + 0.5) * scaleX);
    const ys = Array.from(r.ys, (y) => (y + 0.5) * scaleY);
    return { xs, ys, rect: orientedRect(xs, ys) };
  });
  for (let merged = true; merged;) {
    merged = false;
    outer: for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        if (!sameLine(groups[i]!, groups[j]!)) continue;
        const xs = [...groups[i]!.xs, ...groups[j]!.xs];
        const ys = [...groups[i]!.ys, ...groups[j]!.ys];
        groups = [...groups.filter((_, k) => k !== i && k !== j), { xs, ys, rect: orientedRect(xs, ys) }];
        merged = true;
        break outer;
      }
    }
  }
  return groups.map(({ xs, ys, rect }) => {
    // DB's unclip: the kernel is grown by area × ratio / perimeter on every side
    const d = (rect.width * rect.height * unclip) / (2 * (rect.width + rect.height));
    const grown = orientedRect(xs, ys, d);
    return { quad: grown.quad, width: grown.width, height: grown.height, angle: grown.angle };
  });
}

/**
 * Two regions on one text line: measured on the axis of the more elongated one (a short group such as
 * "京A" has no reliable axis of its own), the other's centre lies on that axis, its height across the axis
 * is similar, and the gap between them along it is under about a line height.
 */
function sameLine(a: Group, b: Group): boolean {
  const ra = a.rect, rb = b.rect;
  const axis = ra.width / ra.height >= rb.width / rb.height ? ra : rb;
  const other = axis === ra ? rb : ra;
  const ux = Math.cos(axis.angle), uy = Math.sin(axis.angle);
  const h = axis.height;
  const otherAcross = 2 * projectedHalf(other, -uy, ux);
  if (otherAcross < 0.5 * h || otherAcross > 1.6 * h) return false;
  const ca = centre(axis.quad), cb = centre(other.quad);
  const dx = cb[0] - ca[0], dy = cb[1] - ca[1];
  const across = Math.abs(-dx * uy + dy * ux);
  const along = Math.abs(dx * ux + dy * uy);
  const gap = along - axis.width / 2 - projectedHalf(other, ux, uy);
  return across < 0.35 * h && gap < 1.0 * h;
}

function centre(q: Quad): [number, number] {
  return [(q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4];
}

/** Half the extent of a rectangle along the direction (ux, uy). */
function projectedHalf(r: ReturnType<typeof orientedRect>, ux: number, uy: number): number {
  let lo = Infinity, hi = -Infinity;
  for (const [x, y] of r.quad) {
    const u = x * ux + y * uy;
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
  }
  return (hi - lo) / 2;
}
