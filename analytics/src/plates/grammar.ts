/**
 * Plate grammar: the recogniser's per-step probabilities are decoded against the mainland plate formats
 * (GA 36-2018) instead of read as free text. Each format is a list of character sets per position; the CTC
 * symbols are aligned to the positions (a symbol may be skipped: a separator, a screw, a frame edge), and
 * at each position the best character *of that position's set* is taken, so a province can only be a
 * province and a digit position never reads "O". A read that fits no format is not a plate (issue #20:
 * bus lettering, a green plate short of its last digit, a separator read as "-").
 */

export type PlateColour = 'blue' | 'yellow' | 'green' | 'white' | 'black';
export type PlateFormat = 'ordinary' | 'suffixed' | 'police' | 'nev-small' | 'nev-large';

/** Province abbreviations (GA 36-2018). */
export const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const ISSUER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
const DIGITS = '0123456789';
/** New-energy plates: the energy letter (D electric, F other; A–K since the 2021 extension). */
const ENERGY = 'ABCDEFGHJK';

interface Template {
  format: PlateFormat;
  slots: string[];
  /** Colours a plate of this format has. */
  colours: PlateColour[];
}

const TEMPLATES: Template[] = [
  // White plates with an ordinary number exist (training and test plates, the project's white test photo);
  // a white police plate is told apart by its 警.
  { format: 'ordinary', slots: [PROVINCES, ISSUER, ALNUM, ALNUM, ALNUM, ALNUM, ALNUM], colours: ['blue', 'yellow', 'black', 'white'] },
  { format: 'suffixed', slots: [PROVINCES, ISSUER, ALNUM, ALNUM, ALNUM, ALNUM, '挂学港澳领'], colours: ['yellow', 'black'] },
  { format: 'police', slots: [PROVINCES, ISSUER, ALNUM, ALNUM, ALNUM, ALNUM, '警'], colours: ['white'] },
  { format: 'nev-small', slots: [PROVINCES, ISSUER, ENERGY, ALNUM, DIGITS, DIGITS, DIGITS, DIGITS], colours: ['green'] },
  { format: 'nev-large', slots: [PROVINCES, ISSUER, DIGITS, DIGITS, DIGITS, DIGITS, DIGITS, ENERGY], colours: ['yellow', 'green'] },
];

/** Symbols that separate groups on a plate and are never part of the number. */
const SEPARATORS = new Set(['·', '•', '.', '-', '_', ' ', '—', '一', '・', '∙', ':', '：', '|']);
/** A skipped symbol read with probability p costs log(1 − p), floored so one skip never dominates. */
const MIN_SKIP = 0.02;

export interface PlateChar {
  char: string;
  /** The recogniser's probability of this character at its step. */
  p: number;
  /**
   * The province only: its probability among the provinces at that step. The recogniser spreads a small
   * plate's province over look-alike characters that cannot stand there (宁 over 宇 and 守); given that the
   * position holds a province, this is its probability (gate.ts says when it counts).
   */
  inSet?: number;
}

export interface PlateDecode {
  /** Without separators, e.g. 沪B9X77Q. */
  plate: string;
  /** As printed, e.g. 沪B·9X77Q. */
  text: string;
  format: PlateFormat;
  chars: PlateChar[];
  /** Mean log-probability per position (for ranking candidate lines). */
  score: number;
  /** The recogniser's step at which each character was read. */
  steps: number[];
}

/** The character sets of the formats as class indices of a recogniser whose class i is keys[i − 1]. */
export class PlateGrammar {
  private readonly templates: Array<{ t: Template; slots: number[][] }>;

  constructor(private readonly keys: readonly string[]) {
    const index = new Map<string, number>();
    keys.forEach((k, i) => { if (!index.has(k)) index.set(k, i + 1); });
    this.templates = TEMPLATES.map((t) => ({
      t,
      slots: t.slots.map((set) => [...set].map((c) => index.get(c)).filter((i): i is number => i !== undefined)),
    }));
  }

  /**
   * The best plate reading of a CTC output [steps, classes] (class 0 blank), or null when no format fits.
   * `colour`, when known, keeps only the formats of that colour (a green plate has 8 characters).
   */
  decode(probs: Float32Array, steps: number, classes: number, colour?: PlateColour): PlateDecode | null {
    const symbols = this.symbols(probs, steps, classes);
    let best: PlateDecode | null = null;
    for (const { t, slots } of this.templates) {
      if (colour && !t.colours.includes(colour)) continue;
      const d = align(symbols, slots, probs, classes, this.keys, t.format);
      if (d && (!best || d.score > best.score)) best = d;
    }
    return best;
  }

  /**
   * A police plate's six characters before its 警, from the symbols read before `beforeStep`: where the red
   * glyph was found by its colour (suffix.ts), which the caller appends. Null when they do not fit.
   */
  decodePoliceStem(probs: Float32Array, steps: number, classes: number, beforeStep: number): PlateDecode | null {
    const police = this.templates.find(({ t }) => t.format === 'police')!;
    const symbols = this.symbols(probs, steps, classes).filter((s) => s.step < beforeStep);
    return align(symbols, police.slots.slice(0, -1), probs, classes, this.keys, 'police');
  }

  /** Greedy CTC symbols: one per run of the same non-blank class, at the run's most confident step. */
  private symbols(probs: Float32Array, steps: number, classes: number): Symbol[] {
    const out: Symbol[] = [];
    let prev = 0;
    for (let t = 0; t < steps; t++) {
      const o = t * classes;
      let k = 0;
      let p = probs[o]!;
      for (let c = 1; c < classes; c++) if (probs[o + c]! > p) { p = probs[o + c]!; k = c; }
      if (k !== 0 && k === prev) {
        const last = out[out.length - 1]!;
        if (p > last.p) { last.p = p; last.step = t; }
      } else if (k !== 0) {
        const char = k - 1 < this.keys.length ? this.keys[k - 1]! : ' ';
        out.push({ step: t, p, separator: SEPARATORS.has(char) });
      }
      prev = k;
    }
    return out;
  }
}

interface Symbol {
  step: number;
  p: number;
  separator: boolean;
}

/** Dynamic programme: symbols in order either fill the next position or are skipped. */
function align(symbols: Symbol[], slots: number[][], probs: Float32Array, classes: number, keys: readonly string[], format: PlateFormat): PlateDecode | null {
  const n = symbols.length;
  const m = slots.length;
  if (n < m) return null;
  const NEG = -Infinity;
  const score: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(NEG));
  const fill: boolean[][] = Array.from({ length: n + 1 }, () => new Array<boolean>(m + 1).fill(false));
  const pick: Array<Array<[number, number]>> = symbols.map((s) => slots.map((set) => bestIn(probs, s.step * classes, set)));
  score[0]![0] = 0;
  for (let i = 0; i < n; i++) {
    const s = symbols[i]!;
    const skip = s.separator ? 0 : Math.log(Math.max(MIN_SKIP, 1 - s.p));
    for (let j = 0; j <= m; j++) {
      const here = score[i]![j]!;
      if (here === NEG) continue;
      if (here + skip > score[i + 1]![j]!) { score[i + 1]![j] = here + skip; fill[i + 1]![j] = false; }
      if (j < m && !s.separator) {
        const v = here + Math.log(Math.max(1e-6, pick[i]![j]![1]));
        if (v > score[i + 1]![j + 1]!) { score[i + 1]![j + 1] = v; fill[i + 1]![j + 1] = true; }
      }
    }
  }
  if (score[n]![m] === NEG) return null;
  const chars: PlateChar[] = new Array(m);
  const steps: number[] = new Array(m);
  for (let i = n, j = m; i > 0; i--) {
    if (fill[i]![j]) {
      const [k, p] = pick[i - 1]![j - 1]!;
      chars[j - 1] = j === 1 ? { char: keys[k - 1]!, p, inSet: p / Math.max(1e-9, massIn(probs, symbols[i - 1]!.step * classes, slots[0]!)) } : { char: keys[k - 1]!, p };
      steps[j - 1] = symbols[i - 1]!.step;
      j--;
    }
  }
  if (hasHole(steps)) return null;
  const plate = chars.map((c) => c.char).join('');
  return { plate, text: `${plate.slice(0, 2)}·${plate.slice(2)}`, format, chars, score: score[n]![m]! / m, steps };
}

/**
 * A plate's characters are evenly spaced: a gap of about two characters between neighbours after the
 * separator means the recogniser lost one, and the read only fits a shorter format by accident (issue #20: a
 * green plate short of one character reads as a valid 7-character plate). The province–letter group and
 * the separator gap after it are left out; with CTC's coarse steps (about 4 per character) only clear holes count.
 */
function hasHole(steps: number[]): boolean {
  const gaps: number[] = [];
  for (let i = 2; i + 1 < steps.length; i++) gaps.push(steps[i + 1]! - steps[i]!);
  if (gaps.length < 3) return false;
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  return gaps.some((g) => g > Math.max(median + 2, 1.7 * median));
}

function massIn(probs: Float32Array, offset: number, set: number[]): number {
  let sum = 0;
  for (const c of set) sum += probs[offset + c]!;
  return sum;
}

function bestIn(probs: Float32Array, offset: number, set: number[]): [number, number] {
  let k = set[0] ?? 0;
  let p = -1;
  for (const c of set) if (probs[offset + c]! > p) { p = probs[offset + c]!; k = c; }
  return [k, Math.max(0, p)];
}

/** The format a plate key fits, ignoring colour, or null (for plates read elsewhere, e.g. by a barrier). */
export function plateFormat(key: string): PlateFormat | null {
  const chars = [...key];
  for (const t of TEMPLATES) {
    if (t.slots.length === chars.length && t.slots.every((set, i) => set.includes(chars[i]!))) return t.format;
  }
  return null;
}
