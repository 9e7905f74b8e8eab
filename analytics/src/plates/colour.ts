/**
 * The plate's background colour, which predicts its format: blue and black plates have 7 characters,
 * green (new-energy) 8, white police plates end in 警, yellow ones may end in 挂 or 学 or be large
 * new-energy plates. Read from the area around the text line; null when the picture does not say
 * (night, glare), and then every format is tried.
 */
import type { RawFrame } from '../image.js';
import type { PlateColour } from './grammar.js';
import { scaleQuad, warpQuad, type Quad } from './quad.js';

/** Share of the sampled pixels that must agree on a colour. */
const MIN_SHARE = 0.35;
/**
 * New-energy plates fade from white at the top to green at the bottom, so fewer pixels are saturated green;
 * green hardly occurs on the other plates, so a smaller share decides it.
 */
const MIN_GREEN_SHARE = 0.12;

export function plateColour(frame: RawFrame, text: Quad): PlateColour | null {
  // The text line covers most of a plate's width and about two thirds of its height.
  const patch = warpQuad(frame, scaleQuad(text, 1.05, 1.4), 64, 20);
  const votes: Record<PlateColour, number> = { blue: 0, yellow: 0, green: 0, white: 0, black: 0 };
  const d = patch.data;
  const n = patch.width * patch.height;
  for (let i = 0; i < n; i++) {
    const r = d[i * 3]! / 255, g = d[i * 3 + 1]! / 255, b = d[i * 3 + 2]! / 255;
    const max = Math.max(r, g, b), min = Math.min(r, g, b);
    const s = max > 0 ? (max - min) / max : 0;
    if (s < 0.18) {
      if (max > 0.7) votes.white++;
      else if (max < 0.25) votes.black++;
      continue;
    }
    if (max < 0.2) continue;
    const hue = hueOf(r, g, b, max, min);
    if (hue >= 190 && hue <= 255) votes.blue++;
    else if (hue >= 75 && hue < 175) votes.green++;
    else if (hue >= 35 && hue < 75) votes.yellow++;
  }
  // Text is white on blue and black plates and dark on the others: white or black pixels alone are the
  // characters unless nothing coloured is there.
  if (votes.green >= MIN_GREEN_SHARE * n && votes.green >= votes.blue && votes.green >= votes.yellow) return 'green';
  const coloured = (['blue', 'green', 'yellow'] as const).reduce((best, c) => (votes[c] > votes[best] ? c : best), 'blue' as PlateColour);
  if (votes[coloured] >= MIN_SHARE * n) return coloured;
  if (votes.white >= 0.5 * n) return 'white';
  return null;
}

function hueOf(r: number, g: number, b: number, max: number, min: number): number {
  const c = max - min;
  let h: number;
  if (max === r) h = ((g - b) / c) % 6;
  else if (max === g) h = (b - r) / c + 2;
  else h = (r - g) / c + 4;
  return (h * 60 + 360) % 360;
}
