/**
 * Plate geometry: the oriented rectangle around a text region's pixels, and a perspective warp of a
 * quadrilateral to a level rectangle. Plates seen rolled or from the side are straightened before they are
 * read: on rendered plates rolled 10–20°, axis-aligned crops read 1–2 of 13, straightened ones 12 of 13
 * (issue #20).
 */
import type { RawFrame } from '../image.js';

export type Pt = [number, number];
/** Corners in reading order: top-left, top-right, bottom-right, bottom-left. */
export type Quad = [Pt, Pt, Pt, Pt];

/**
 * The smallest rectangle along the pixels' principal axis (second moments), the long side taken as the
 * reading direction and pointing right, grown by `grow` on every side.
 */
export function orientedRect(xs: ArrayLike<number>, ys: ArrayLike<number>, grow = 0): { quad: Quad; width: number; height: number; angle: number } {
  const n = xs.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += xs[i]!; my += ys[i]!; }
  mx /= n; my /= n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
  }
  let angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  // the long axis reads left to right: keep it within ±90° of +x
  if (Math.cos(angle) < 0) angle += Math.PI;
  const ux = Math.cos(angle), uy = Math.sin(angle);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    const u = dx * ux + dy * uy;
    const v = -dx * uy + dy * ux;
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (v < v0) v0 = v;
    if (v > v1) v1 = v;
  }
  // pixel centres → pixel edges, then the growth
  u0 -= 0.5 + grow; u1 += 0.5 + grow; v0 -= 0.5 + grow; v1 += 0.5 + grow;
  const at = (u: number, v: number): Pt => [mx + u * ux - v * uy, my + u * uy + v * ux];
  return { quad: [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)], width: u1 - u0, height: v1 - v0, angle };
}

/** 3×3 homography (row-major, h[8] = 1) taking the four `from` points to the four `to` points. */
export function homography(from: Quad, to: Quad): number[] {
  // 8 equations a·h = b, solved by Gaussian elimination with partial pivoting
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const pivot = a[c]![c]!;
    if (Math.abs(pivot) < 1e-12) throw new Error('degenerate quadrilateral');
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / pivot;
      if (f !== 0) for (let k = c; k < 9; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return [...a.map((row, i) => row[8]! / row[i]!), 1];
}

export function applyHomography(h: readonly number[], x: number, y: number): Pt {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

/**
 * The quadrilateral `quad` of `frame` warped to a `width`×`height` rectangle, bilinear; points outside the
 * frame take the nearest edge pixel.
 */
export function warpQuad(frame: RawFrame, quad: Quad, width: number, height: number): RawFrame {
  const h = homography([[0, 0], [width, 0], [width, height], [0, height]], quad);
  const out = new Uint8Array(width * height * 3);
  const { data, width: fw, height: fh } = frame;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let [sx, sy] = applyHomography(h, x + 0.5, y + 0.5);
      sx = Math.min(fw - 1, Math.max(0, sx - 0.5));
      sy = Math.min(fh - 1, Math.max(0, sy - 0.5));
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const x1 = Math.min(fw - 1, x0 + 1), y1 = Math.min(fh - 1, y0 + 1);
      const fx = sx - x0, fy = sy - y0;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[(y0 * fw + x0) * 3 + c]! * (1 - fx) + data[(y0 * fw + x1) * 3 + c]! * fx;
        const bottom = data[(y1 * fw + x0) * 3 + c]! * (1 - fx) + data[(y1 * fw + x1) * 3 + c]! * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width, height, data: out };
}

/** The quad scaled about its centre: `sx` along its top edge's direction, `sy` across it. */
export function scaleQuad(q: Quad, sx: number, sy: number): Quad {
  const cx = (q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4;
  const cy = (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4;
  const ex: Pt = [(q[1][0] - q[0][0] + q[2][0] - q[3][0]) / 4, (q[1][1] - q[0][1] + q[2][1] - q[3][1]) / 4];
  const ey: Pt = [(q[3][0] - q[0][0] + q[2][0] - q[1][0]) / 4, (q[3][1] - q[0][1] + q[2][1] - q[1][1]) / 4];
  const corner = (su: number, sv: number): Pt => [cx + su * sx * ex[0] + sv * sy * ey[0], cy + su * sx * ex[1] + sv * sy * ey[1]];
  return [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
}

/** The quad lengthened along its reading direction by `left` and `right` shares of its length at each end. */
export function extendEnds(q: Quad, left: number, right: number): Quad {
  const top: Pt = [q[1][0] - q[0][0], q[1][1] - q[0][1]];
  const bottom: Pt = [q[2][0] - q[3][0], q[2][1] - q[3][1]];
  return [
    [q[0][0] - top[0] * left, q[0][1] - top[1] * left],
    [q[1][0] + top[0] * right, q[1][1] + top[1] * right],
    [q[2][0] + bottom[0] * right, q[2][1] + bottom[1] * right],
    [q[3][0] - bottom[0] * left, q[3][1] - bottom[1] * left],
  ];
}
