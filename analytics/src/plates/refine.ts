/**
 * Two-stage text detection for plates (issue #20). The DB detector sees the whole frame at most 960 px on
 * its long side, so a 120 px plate in a 1920×1080 frame is 60 px wide on its map: it is found, but its
 * outline is rough and often cuts off the province or the red 警. Each line found that way is detected
 * again on a window of the source pixels around it, scaled so the line is about `REFINE_WIDTH` wide, the
 * size at which the detector outlines plate text well; the refined outline is what gets read.
 */
import type { TextQuad } from './lines.js';
import { scaleQuad, type Pt, type Quad } from './quad.js';

/** Text line length (px) the window is scaled to: plates 200–300 px wide read best (issue #20). */
export const REFINE_WIDTH = 240;
/** The window around a line: its length × 1.5 along it, its height × 3 across (room for the ends and roll). */
const WINDOW_ALONG = 1.5;
const WINDOW_ACROSS = 3;
/** Longest side of a window fed to the detector. */
const MAX_WINDOW_SIDE = 640;

export interface RefineWindow {
  /** Source pixels of the window, integers inside the frame. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Window pixels per source pixel. */
  scale: number;
}

/** The window of the frame around a coarse line, and the scale it is detected at. */
export function refineWindow(line: TextQuad, frameWidth: number, frameHeight: number): RefineWindow {
  const grown = scaleQuad(line.quad, WINDOW_ALONG, WINDOW_ACROSS);
  const xs = grown.map((p) => p[0]);
  const ys = grown.map((p) => p[1]);
  const left = Math.max(0, Math.floor(Math.min(...xs)));
  const top = Math.max(0, Math.floor(Math.min(...ys)));
  const right = Math.min(frameWidth, Math.ceil(Math.max(...xs)));
  const bottom = Math.min(frameHeight, Math.ceil(Math.max(...ys)));
  const width = Math.max(1, right - left);
  const height = Math.max(1, bottom - top);
  let scale = REFINE_WIDTH / Math.max(1, line.width);
  scale = Math.min(scale, MAX_WINDOW_SIDE / Math.max(width, height), 4);
  return { left, top, width, height, scale };
}

/** A line found in the window (measured in source pixels from the window's corner), back in frame coordinates. */
export function toSource(line: TextQuad, win: RefineWindow): TextQuad {
  const quad = line.quad.map(([x, y]) => [win.left + x, win.top + y]) as Quad;
  return { ...line, quad };
}

/** Centre of a quadrilateral. */
export function quadCentre(q: Quad): [number, number] {
  return [(q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4];
}

/**
 * The refined line that stands for a coarse one. At the window's scale a plate's line can come apart (a
 * province character such as 鲁 splits into its top and bottom, and the pieces do not join the rest), so
 * every window region centred within the coarse line (its length along it, half its height across) counts:
 * the longest of those shaped like a line (`lineShaped`) gives the axis and the height, and the line is
 * lengthened along that axis to cover the others. Null when no such line lies there.
 */
export function matchRefined(coarse: TextQuad, found: readonly TextQuad[], lineShaped: (l: TextQuad) => boolean): TextQuad | null {
  const [cx, cy] = quadCentre(coarse.quad);
  const cux = Math.cos(coarse.angle), cuy = Math.sin(coarse.angle);
  const near = found.filter((f) => {
    const [fx, fy] = quadCentre(f.quad);
    const along = Math.abs((fx - cx) * cux + (fy - cy) * cuy);
    const across = Math.abs(-(fx - cx) * cuy + (fy - cy) * cux);
    return along <= coarse.width / 2 && across <= coarse.height / 2;
  });
  const lines = near.filter(lineShaped);
  if (!lines.length) return null;
  const base = lines.reduce((a, b) => (b.width > a.width ? b : a));
  const ux = Math.cos(base.angle), uy = Math.sin(base.angle);
  const [bx, by] = quadCentre(base.quad);
  const u = (p: Pt) => (p[0] - bx) * ux + (p[1] - by) * uy;
  let u0 = Math.min(...base.quad.map(u)), u1 = Math.max(...base.quad.map(u));
  const v0 = -base.height / 2, v1 = base.height / 2;
  for (const f of near) {
    if (f === base) continue;
    u0 = Math.min(u0, ...f.quad.map(u));
    u1 = Math.max(u1, ...f.quad.map(u));
  }
  const at = (a: number, b: number): Pt => [bx + a * ux - b * uy, by + a * uy + b * ux];
  return { quad: [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)], width: u1 - u0, height: base.height, angle: base.angle };
}
