/**
 * The red 警 of a white police plate, found by its colour. On small plates the glyph is a few pixels of
 * red, too fine for the recogniser (issue #20: "警 is dropped on small plates"), yet its colour is plain:
 * no other character on a white plate is red. The line is scanned column by column for red in the text's
 * rows; the rightmost run of red columns, in the line's right part, with little red elsewhere on the line
 * (a red car or a red cast), is the suffix.
 */
import type { RawFrame } from '../image.js';
import { hueOf } from './colour.js';

/** Rows of the line image scanned (shares of its height): the characters' body, not the plate's border. */
const ROWS = [0.15, 0.85] as const;
/** A pixel is red when its red channel leads the others by this much and by this factor. */
const RED_LEAD = 24;
const RED_FACTOR = 1.5;
/** A column is red when this share of its scanned pixels is. */
const COLUMN_SHARE = 0.05;
/** Gaps between a glyph's strokes (columns, at the recogniser's height 48) joined into one run. */
const JOIN = 3;
/** The glyph's width as a share of the line's height: narrower is noise, wider is not a character. */
const MIN_WIDTH = 0.12;
const MAX_WIDTH = 0.7;
/** Saturated, non-red pixels allowed left of the suffix (colouredShare). */
const MAX_COLOURED = 0.06;
/** Hues closer than this to 0° are red (degrees). */
const RED_HUE = 21;
/** Columns at the line's start left out of colouredShare (a share of its width). */
const LEAD_IN = 0.08;
/** The suffix starts in the line's right part (a share of its width). */
const RIGHT_PART = 0.6;
/** Columns at the line's end that must not be red. */
const EDGE = 3;
/** Red columns allowed before the suffix, as a share of those columns. */
const MAX_RED_BEFORE = 0.1;

/** The red glyph's columns in a level line image, or null when there is none. */
export function redSuffix(line: RawFrame): { start: number; end: number } | null {
  const { width: w, height: h, data } = line;
  const y0 = Math.floor(ROWS[0] * h), y1 = Math.ceil(ROWS[1] * h);
  const red: boolean[] = new Array(w).fill(false);
  for (let x = 0; x < w; x++) {
    let n = 0;
    for (let y = y0; y < y1; y++) {
      const o = (y * w + x) * 3;
      const r = data[o]!, other = Math.max(data[o + 1]!, data[o + 2]!);
      if (r - other >= RED_LEAD && r >= RED_FACTOR * other) n++;
    }
    red[x] = n >= COLUMN_SHARE * (y1 - y0);
  }
  // runs of red columns, right to left; a run reaching the line's end is what lies past the plate (a red
  // car), and a run too narrow is noise: the suffix is the first run after those
  for (const run of redRuns(red)) {
    const width = run.end - run.start + 1;
    if (run.end >= w - EDGE || width < MIN_WIDTH * h) continue;
    if (width > MAX_WIDTH * h || run.start < RIGHT_PART * w) return null;
    const before = red.slice(0, run.start).filter(Boolean).length;
    if (before > MAX_RED_BEFORE * Math.max(1, run.start)) return null;
    return colouredShare(line, run.start) > MAX_COLOURED ? null : run;
  }
  return null;
}

/**
 * Share of the pixels left of `upTo` that are saturated and not red: blue, yellow and green plates are
 * mostly that, a white plate's ground and black characters are not. The suffix test stands on its own
 * when the plate's colour could not be told (colour.ts).
 */
function colouredShare(line: RawFrame, upTo: number): number {
  const { width: w, height: h, data } = line;
  // the text's rows, past the half character added at the line's start: a car body shows at the corners
  const y0 = Math.floor(ROWS[0] * h), y1 = Math.ceil(ROWS[1] * h), x0 = Math.floor(LEAD_IN * w);
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < upTo; x++) {
      const o = (y * w + x) * 3;
      const r = data[o]!, g = data[o + 1]!, b = data[o + 2]!;
      const max = Math.max(r, g, b), min = Math.min(r, g, b);
      if (max < 50 || max - min < 0.35 * max) continue;
      // saturated, and not red: red's hue is within RED_HUE of 0 (yellow, at about 48°, counts as coloured)
      const hue = hueOf(r, g, b, max, min);
      if (hue >= RED_HUE && hue <= 360 - RED_HUE) n++;
    }
  }
  return n / Math.max(1, (upTo - x0) * (y1 - y0));
}

/** Runs of true columns joined across gaps of up to JOIN, rightmost first. */
function redRuns(red: boolean[]): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  for (let x = red.length - 1; x >= 0; x--) {
    if (!red[x]) continue;
    const last = runs[runs.length - 1];
    if (last && last.start - x <= JOIN + 1) last.start = x;
    else runs.push({ start: x, end: x });
  }
  return runs;
}
