/**
 * The plate's background colour, which predicts its format: blue and black plates have 7 characters,
 * green (new-energy) 8, white police plates end in 警, yellow ones may end in 挂 or 学 or be large
 * new-energy plates. Read from the area around the text line; null when the picture does not say
 * (glare, a dark frame), and then every format is tried.
 */
import type { RawFrame } from '../image.js';
import type { PlateColour } from './grammar.js';
import { scaleQuad, warpQuad, type Quad } from './quad.js';

/** Share of the sampled pixels that must agree on a colour. */
const MIN_SHARE = 0.35;
/** White needs more: white characters on blue and black plates are a quarter to a third of the patch. */
const MIN_WHITE_SHARE = 0.42;
/**
 * New-energy plates fade from white at the top to green at the bottom, so fewer pixels are saturated green;
 * green hardly occurs on the other plates, so a smaller share decides it.
 */
const MIN_GREEN_SHARE = 0.12;
/**
 * Rows of the patch (shares of its height) where a new-energy plate is already green between its characters:
 * the lower middle of the text. A car body showing past a yawed plate's edge reaches the outer rows only.
 */
const GREEN_ROWS = [0.45, 0.85] as const;
/** Share of those rows' pixels in every band that must be green (about 60 % are background there). */
const GREEN_BAND_SHARE = 0.2;
/** The patch sampled: its columns fall in this many bands along the plate. */
const BANDS = 4;
const PATCH_W = 64;
const PATCH_H = 20;

interface Votes {
  blue: number;
  yellow: number;
  green: number;
  white: number;
  black: number;
}

export function plateColour(frame: RawFrame, text: Quad): PlateColour | null {
  // The text line covers most of a plate's width and about two thirds of its height.
  const patch = warpQuad(frame, scaleQuad(text, 1.05, 1.4), PATCH_W, PATCH_H);
  const d = patch.data;
  const n = PATCH_W * PATCH_H;
  // "White" is relative to the patch's brightest pixels: at night a white plate is grey, yet still the
  // brightest thing around its characters.
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.max(d[i * 3]!, d[i * 3 + 1]!, d[i * 3 + 2]!) / 255;
  const bright = Math.max(0.25, 0.7 * [...values].sort((a, b) => a - b)[Math.floor(0.95 * n)]!);
  const votes: Votes = { blue: 0, yellow: 0, green: 0, white: 0, black: 0 };
  const greenIn = { bands: new Array<number>(BANDS).fill(0), top: 0, bottom: 0 };
  for (let i = 0; i < n; i++) {
    const r = d[i * 3]! / 255, g = d[i * 3 + 1]! / 255, b = d[i * 3 + 2]! / 255;
    const max = Math.max(r, g, b), min = Math.min(r, g, b);
    const s = max > 0 ? (max - min) / max : 0;
    if (s < 0.18) {
      if (max >= bright) votes.white++;
      else if (max < 0.25) votes.black++;
      continue;
    }
    if (max < 0.2) continue;
    const hue = hueOf(r, g, b, max, min);
    if (hue >= 190 && hue <= 255) votes.blue++;
    else if (hue >= 75 && hue < 175) {
      votes.green++;
      const x = i % PATCH_W, y = Math.floor(i / PATCH_W);
      if (y >= GREEN_ROWS[0] * PATCH_H && y < GREEN_ROWS[1] * PATCH_H) greenIn.bands[Math.floor((x * BANDS) / PATCH_W)]!++;
      if (y < PATCH_H / 2) greenIn.top++;
      else greenIn.bottom++;
    } else if (hue >= 35 && hue < 75) votes.yellow++;
  }
  if (isGreenPlate(votes, greenIn, n)) return 'green';
  const coloured = (['blue', 'green', 'yellow'] as const).reduce((best, c) => (votes[c] > votes[best] ? c : best), 'blue' as PlateColour);
  // A white plate yawed or rolled lets the car body into the patch's corners: a blue car made white police
  // plates read as blue ones (issue #20), so white that outweighs the colour decides first.
  if (votes.white >= MIN_WHITE_SHARE * n && votes.white > votes[coloured]) return 'white';
  if (coloured !== 'green' && votes[coloured] >= MIN_SHARE * n) return coloured;
  if (votes.white >= MIN_WHITE_SHARE * n) return 'white';
  return null;
}

/**
 * Green as a new-energy plate shows it: enough of it, between the characters along the whole plate (every
 * band of GREEN_ROWS), and more in the lower half (the white-to-green fade). A green car body showing past the end of a yawed white plate is
 * green in one corner only (issue #20: white police plates taken for green ones, so 警 could not fit).
 */
function isGreenPlate(votes: Votes, green: { bands: number[]; top: number; bottom: number }, n: number): boolean {
  if (votes.green < MIN_GREEN_SHARE * n || votes.green < votes.blue || votes.green < votes.yellow) return false;
  const perBand = (PATCH_W / BANDS) * (GREEN_ROWS[1] - GREEN_ROWS[0]) * PATCH_H;
  return green.bands.every((c) => c >= GREEN_BAND_SHARE * perBand) && green.bottom > green.top;
}

/** Hue in degrees (0–360) of a pixel whose channels' largest and smallest are `max` and `min` (max > min). */
export function hueOf(r: number, g: number, b: number, max: number, min: number): number {
  const c = max - min;
  let h: number;
  if (max === r) h = ((g - b) / c) % 6;
  else if (max === g) h = (b - r) / c + 2;
  else h = (r - g) / c + 4;
  return (h * 60 + 360) % 360;
}
