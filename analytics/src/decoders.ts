/**
 * Output decoding for each model family, exactly as PROVENANCE.md records it. Each returns candidate boxes in
 * source pixels above the score threshold, before NMS.
 */
import type { TensorData } from './infer/protocol.js';
import type { Prepared } from './preprocess.js';
import type { Box } from './detection.js';

export interface Candidate {
  cls: number;
  score: number;
  box: Box;
}

/**
 * YOLOX (non-legacy export): [1, A, 5 + C] rows over the anchor grids of each stride, row-major.
 * x, y are grid offsets, w, h are log sizes; objectness and class scores already have the sigmoid applied.
 */
export function decodeYolox(out: TensorData, prep: Prepared, inputW: number, inputH: number, strides: number[], threshold: number): Candidate[] {
  const rowLen = out.dims[2] ?? 0;
  const classes = rowLen - 5;
  const d = out.data;
  const found: Candidate[] = [];
  let row = 0;
  for (const s of strides) {
    const gw = Math.floor(inputW / s);
    const gh = Math.floor(inputH / s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const o = row * rowLen;
        const obj = d[o + 4]!;
        if (obj < threshold) continue; // score = obj × cls ≤ obj
        let best = 0;
        let cls = 0;
        for (let c = 0; c < classes; c++) {
          const v = d[o + 5 + c]!;
          if (v > best) { best = v; cls = c; }
        }
        const score = obj * best;
        if (score < threshold) continue;
        const cx = (d[o]! + gx) * s;
        const cy = (d[o + 1]! + gy) * s;
        const w = Math.exp(d[o + 2]!) * s;
        const h = Math.exp(d[o + 3]!) * s;
        found.push({ cls, score, box: [(cx - w / 2) / prep.scaleX, (cy - h / 2) / prep.scaleY, (cx + w / 2) / prep.scaleX, (cy + h / 2) / prep.scaleY] });
      }
    }
  }
  return found;
}

/**
 * FastestDet: [1, 5 + C, G, G] on one grid. ch0 objectness (sigmoid applied), ch1-2 centre offsets (tanh),
 * ch3-4 size normalised to the image (sigmoid), then softmaxed class probabilities.
 * score = obj^0.6 × cls^0.4 (the author's weighting).
 */
export function decodeFastestDet(out: TensorData, prep: Prepared, threshold: number): Candidate[] {
  const channels = out.dims[1] ?? 0;
  const gh = out.dims[2] ?? 0;
  const gw = out.dims[3] ?? 0;
  const plane = gw * gh;
  const d = out.data;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const found: Candidate[] = [];
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const i = gy * gw + gx;
      const obj = d[i]!;
      let best = 0;
      let cls = 0;
      for (let c = 5; c < channels; c++) {
        const v = d[c * plane + i]!;
        if (v > best) { best = v; cls = c - 5; }
      }
      const score = obj ** 0.6 * best ** 0.4;
      if (score < threshold) continue;
      const cx = ((gx + Math.tanh(d[plane + i]!)) / gw) * prep.width;
      const cy = ((gy + Math.tanh(d[2 * plane + i]!)) / gh) * prep.height;
      const w = sigmoid(d[3 * plane + i]!) * prep.width;
      const h = sigmoid(d[4 * plane + i]!) * prep.height;
      found.push({ cls, score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
    }
  }
  return found;
}

/** UltraFace: scores [1, N, 2] (index 1 = face) and boxes [1, N, 4] normalised x1, y1, x2, y2 (priors decoded in-graph). */
export function decodeUltraface(scores: TensorData, boxes: TensorData, width: number, height: number, threshold: number): Candidate[] {
  const n = scores.dims[1] ?? 0;
  const found: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores.data[i * 2 + 1]!;
    if (score <= threshold) continue;
    const b = i * 4;
    found.push({ cls: 0, score, box: [boxes.data[b]! * width, boxes.data[b + 1]! * height, boxes.data[b + 2]! * width, boxes.data[b + 3]! * height] });
  }
  return found;
}
