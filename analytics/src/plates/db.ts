/**
 * Post-processing of the PP-OCR DB text detector: the probability map is thresholded, connected regions
 * become axis-aligned boxes, weak regions are dropped, and each box is grown ("unclipped") because DB
 * predicts a shrunk text kernel. Axis-aligned boxes suit barrier cameras, which see plates nearly level.
 */
import type { Box } from '../detection.js';

export interface DbOptions {
  /** Pixel threshold on the probability map (PaddleOCR's det_db_thresh, 0.3). */
  binary: number;
  /** Minimum mean probability inside a region (det_db_box_thresh, 0.6). */
  score: number;
  /** Unclip ratio (det_db_unclip_ratio, about 1.5). */
  unclip: number;
  /** Regions smaller than this many pixels on the map are noise. */
  minArea?: number;
}

export interface TextRegion {
  score: number;
  /** In probability-map pixels. */
  box: Box;
  /** The region's pixels (map coordinates), for the oriented rectangle of a rolled plate. */
  xs: Int32Array;
  ys: Int32Array;
}

/** Regions in a [H, W] probability map; 8-connected flood fill with an explicit stack (no recursion limits). */
export function dbRegions(prob: Float32Array, width: number, height: number, opts: DbOptions): TextRegion[] {
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  const regions: TextRegion[] = [];
  for (let start = 0; start < prob.length; start++) {
    if (seen[start] || prob[start]! <= opts.binary) continue;
    seen[start] = 1;
    stack.push(start);
    let minX = width, minY = height, maxX = -1, maxY = -1, sum = 0, n = 0;
    const pixels: number[] = [];
    while (stack.length) {
      const i = stack.pop()!;
      pixels.push(i);
      const x = i % width;
      const y = (i - x) / width;
      sum += prob[i]!;
      n++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (!seen[j] && prob[j]! > opts.binary) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    if (n < (opts.minArea ?? 9)) continue;
    const score = sum / n;
    if (score < opts.score) continue;
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    // DB's unclip distance: area × ratio / perimeter, applied on every side
    const d = (w * h * opts.unclip) / (2 * (w + h));
    const xs = new Int32Array(pixels.length);
    const ys = new Int32Array(pixels.length);
    pixels.forEach((i, k) => { xs[k] = i % width; ys[k] = Math.floor(i / width); });
    regions.push({
      score,
      box: [Math.max(0, minX - d), Math.max(0, minY - d), Math.min(width, maxX + 1 + d), Math.min(height, maxY + 1 + d)],
      xs, ys,
    });
  }
  return regions;
}
