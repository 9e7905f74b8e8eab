/**
 * Greedy CTC decoding of the PP-OCR recogniser output [1, T, K]: index 0 is the blank, index i is line i−1 of
 * ppocr_keys_v1.txt, and the one index past the key list is a space.
 */
export interface Recognised {
  text: string;
  /** Mean of the per-character probabilities (0 for empty text). */
  confidence: number;
  /** The weakest character's probability. */
  minConfidence: number;
  chars: Array<{ char: string; p: number }>;
}

export function ctcGreedy(probs: Float32Array, steps: number, classes: number, keys: readonly string[]): Recognised {
  const chars: Array<{ char: string; p: number }> = [];
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const o = t * classes;
    let best = 0;
    let p = probs[o]!;
    for (let k = 1; k < classes; k++) {
      const v = probs[o + k]!;
      if (v > p) { p = v; best = k; }
    }
    if (best !== 0 && best !== prev) chars.push({ char: best - 1 < keys.length ? keys[best - 1]! : ' ', p });
    prev = best;
  }
  const ps = chars.map((c) => c.p);
  return {
    text: chars.map((c) => c.char).join(''),
    confidence: ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : 0,
    minConfidence: ps.length ? Math.min(...ps) : 0,
    chars,
  };
}
