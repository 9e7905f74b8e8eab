/**
 * Licence-plate reading at barriers with PaddleOCR PP-OCRv4: DB text detection finds text lines on the
 * camera's full-resolution frame, each line's oriented quadrilateral is warped level at the recogniser's
 * height straight from the native pixels, the recogniser's output is decoded against the plate formats
 * (grammar.ts) with the plate colour choosing among them, and a per-character gate keeps doubtful reads
 * from being reported. Both models run in one worker pool. Plate text is personal data; this class only
 * returns it (see README: retention).
 */
import type { ModelManifest } from '@safe-community/models';
import { CodedError, type Logger } from '@safe-community/runtime';
import { rawSharp, toRgb, type ImageInput, type RawFrame } from '../image.js';
import { planarize } from '../preprocess.js';
import type { Box } from '../detection.js';
import type { InferencePool } from '../infer/pool.js';
import { openModelPool } from '../models.js';
import { dbRegions, type TextRegion } from './db.js';
import { ctcGreedy, type Recognised } from './ctc.js';
import { PlateGrammar, type PlateChar, type PlateColour, type PlateDecode, type PlateFormat } from './grammar.js';
import { plateColour } from './colour.js';
import { textQuads, type TextQuad } from './lines.js';
import { matchRefined, refineWindow, toSource } from './refine.js';
import { extendEnds, warpQuad, type Quad } from './quad.js';
import { PLATE_GATE, passesGate } from './gate.js';
import { redSuffix } from './suffix.js';

export interface TextLine extends Recognised {
  /** Source pixels. */
  box: Box;
}

export interface PlateRead {
  /** As printed, e.g. 沪B·9X77Q. */
  text: string;
  /** Without separators, for list matching, e.g. 沪B9X77Q. */
  plate: string;
  /** Mean of the per-character probabilities. */
  confidence: number;
  /** The weakest character's probability. */
  minConfidence: number;
  /** The province character's probability (the most frequent error, issue #20). */
  provinceConfidence: number;
  /** Every read fits a plate format (grammar.ts); kept for callers that check it. */
  valid: true;
  format: PlateFormat;
  /** Background colour seen around the text, or null when the picture does not say. */
  colour: PlateColour | null;
  chars: PlateChar[];
  /** Axis-aligned bounds and the text line's quadrilateral, in source pixels. */
  box: Box;
  quad: Quad;
}


/** Plate-shaped lines read per frame (the widest first); more are other text on the vehicle. */
const MAX_LINES = 3;

/** Plates are wide lines, rolled by less than 45° (issue #20 asks for ±25°). */
function plateShaped(l: TextQuad): boolean {
  return l.height >= 6 && l.width >= 1.5 * l.height && Math.abs(l.angle) < Math.PI / 4;
}

/** One character and its gap, as a share of a 7-character line's length. */
const SUFFIX_SHARE = 0.17;
/** Half a character, the same way. */
const END_SHARE = 0.08;
/**
 * The confidence given to a 警 found by its red colour (suffix.ts) rather than read: a red glyph at the end
 * of a white plate is a police plate's suffix; the characters before it are still read and gated.
 */
const RED_SUFFIX_P = 0.9;
/** The suffix follows the last digit at the plate's character pitch; further away, a character was lost. */
const MAX_SUFFIX_GAP = 1.3;

export interface PlateReaderOptions {
  modelsDir?: string;
  workers?: number;
  intraOpNumThreads?: number;
  /** Longest side fed to the text detector (PaddleOCR's limit_side_len, 960). */
  maxSide?: number;
  /** read() returns nothing that fails this gate; default PLATE_GATE (gate.ts). */
  gate?: typeof PLATE_GATE;
  logger?: Logger;
}

async function resized(frame: RawFrame, w: number, h: number): Promise<RawFrame> {
  if (frame.width === w && frame.height === h) return frame;
  const data = await rawSharp(frame).resize(w, h, { fit: 'fill' }).raw().toBuffer();
  return { width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

async function crop(frame: RawFrame, box: Box): Promise<RawFrame> {
  const left = Math.max(0, Math.floor(box[0]));
  const top = Math.max(0, Math.floor(box[1]));
  const width = Math.max(1, Math.min(frame.width, Math.ceil(box[2])) - left);
  const height = Math.max(1, Math.min(frame.height, Math.ceil(box[3])) - top);
  const data = await rawSharp(frame).extract({ left, top, width, height }).raw().toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Boxes whose vertical spans overlap by half and whose horizontal gap is under one line height belong to one
 * text line (a plate's separator dot or space can split it in two); each line becomes one box.
 */
function mergeLines(boxes: Box[]): Box[] {
  const sorted = [...boxes].sort((a, b) => a[0] - b[0]);
  const lines: Box[] = [];
  for (const b of sorted) {
    const line = lines.find((l) => {
      const overlap = Math.min(l[3], b[3]) - Math.max(l[1], b[1]);
      const lineHeight = Math.min(l[3] - l[1], b[3] - b[1]);
      const gap = Math.max(l[0], b[0]) - Math.min(l[2], b[2]);
      return overlap > 0.5 * lineHeight && gap < lineHeight;
    });
    if (line) {
      line[0] = Math.min(line[0], b[0]); line[1] = Math.min(line[1], b[1]);
      line[2] = Math.max(line[2], b[2]); line[3] = Math.max(line[3], b[3]);
    } else {
      lines.push([...b]);
    }
  }
  return lines;
}

export class PlateReader {
  private pool?: InferencePool;
  private det?: ModelManifest;
  private rec?: ModelManifest;
  private keys: string[] = [];
  private grammar?: PlateGrammar;

  constructor(private readonly opts: PlateReaderOptions = {}) {}

  async start(): Promise<void> {
    if (this.pool) return;
    const { pool, models: { det, rec } } = await openModelPool({ det: { model: 'ocr-det', task: 'ocr-det' }, rec: { model: 'ocr-rec', task: 'ocr-rec' } }, { ...this.opts, name: 'ppocr_v4' });
    this.det = det.manifest;
    this.rec = rec.manifest;
    this.keys = rec.labels;
    this.grammar = new PlateGrammar(rec.labels);
    this.pool = pool;
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.stop();
  }

  /** Every text line found, top to bottom. */
  async readText(image: ImageInput): Promise<TextLine[]> {
    this.require();
    const frame = await toRgb(image);
    const boxes = await this.findText(frame);
    const lines: TextLine[] = [];
    for (const box of mergeLines(boxes)) {
      const r = await this.recognise(await crop(frame, box));
      if (r.text.trim()) lines.push({ ...r, box });
    }
    return lines.sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  }

  /**
   * The plate in a picture of a vehicle or a plate, best first among those passing the gate; null when no
   * line reads as a plate confidently enough. Give it the camera's full-resolution frame (or a crop of it):
   * small characters are what fails on a detector-sized frame (issue #20).
   */
  async read(image: ImageInput): Promise<PlateRead | null> {
    const reads = await this.readPlates(image);
    return reads.find((r) => passesGate(r, this.opts.gate ?? PLATE_GATE)) ?? null;
  }

  /** Every line that decodes as a plate, ungated, most confident first (for voting across frames and calibration). */
  async readPlates(image: ImageInput): Promise<PlateRead[]> {
    this.require();
    const frame = await toRgb(image);
    const lines = await this.plateLines(frame);
    if (!lines.length) lines.push(wholeImage(frame));
    const reads: PlateRead[] = [];
    for (const line of lines) {
      const read = await this.readLine(frame, line);
      if (read) reads.push(read);
    }
    return reads.sort((a, b) => b.minConfidence - a.minConfidence || b.confidence - a.confidence);
  }

  /** One line: straightened from the source pixels at the recogniser's height, read, decoded as a plate. */
  private async readLine(frame: RawFrame, line: TextQuad): Promise<PlateRead | null> {
    const colour = plateColour(frame, line.quad);
    // The text detector often leaves out a red 警 at the end of a white police plate (issue #20: "警 is
    // dropped") and can cut into the province at the start: when the line does not decode as found, it
    // is read again with half a character more at each end, then with one more character at the end.
    let quad = line.quad;
    let decoded: PlateDecode | null = null;
    for (const [left, right] of [[0, 0], [END_SHARE, END_SHARE], [END_SHARE, SUFFIX_SHARE]] as const) {
      quad = extendEnds(line.quad, left, right);
      decoded = await this.decodeView(frame, quad, { ...line, quad, width: line.width * (1 + left + right) }, colour);
      if (decoded) break;
    }
    // A white police plate's 警 is red: on small plates the recogniser drops it or reads another character
    // there, but its colour still shows (issue #20), so white lines (and lines whose colour could not be
    // told) are read again up to a red glyph, unless the recogniser read the 警 itself.
    const readSuffix = decoded?.format === 'police' && decoded.chars[decoded.chars.length - 1]!.p >= RED_SUFFIX_P;
    if ((colour === 'white' || colour === null) && !readSuffix) {
      const police = await this.readPolice(frame, line);
      if (police) ({ quad, decoded } = police);
    }
    if (!decoded) return null;
    const ps = decoded.chars.map((c) => c.p);
    const xs = quad.map((p) => p[0]);
    const ys = quad.map((p) => p[1]);
    return {
      text: decoded.text, plate: decoded.plate, format: decoded.format, colour, chars: decoded.chars,
      confidence: round3(ps.reduce((a, b) => a + b, 0) / ps.length),
      minConfidence: round3(Math.min(...ps)),
      provinceConfidence: round3(ps[0] ?? 0),
      valid: true,
      box: [Math.max(0, Math.min(...xs)), Math.max(0, Math.min(...ys)), Math.min(frame.width, Math.max(...xs)), Math.min(frame.height, Math.max(...ys))],
      quad,
    };
  }

  /** A white plate read up to a red glyph at its end (suffix.ts), as a police plate; null without one. */
  private async readPolice(frame: RawFrame, line: TextQuad): Promise<{ quad: Quad; decoded: PlateDecode } | null> {
    const quad = extendEnds(line.quad, END_SHARE, SUFFIX_SHARE);
    const image = this.warpLine(frame, quad, line.width * (1 + END_SHARE + SUFFIX_SHARE), line.height);
    const red = redSuffix(image);
    if (!red) return null;
    const out = await this.recogniseRaw(image);
    const stepPx = out.width / out.steps;
    const stem = this.grammar!.decodePoliceStem(out.data, out.steps, out.classes, red.start / stepPx);
    if (!stem) return null;
    const last = stem.steps[stem.steps.length - 1]!;
    const pitch = (last - stem.steps[2]!) / (stem.steps.length - 3);
    if (red.start / stepPx - last > MAX_SUFFIX_GAP * pitch) return null;
    const plate = `${stem.plate}警`;
    return {
      quad,
      decoded: {
        ...stem, plate, text: `${plate.slice(0, 2)}·${plate.slice(2)}`,
        chars: [...stem.chars, { char: '警', p: RED_SUFFIX_P }], steps: [...stem.steps, Math.round((red.start + red.end) / 2 / stepPx)],
      },
    };
  }

  /** A line's quadrilateral warped level at the recogniser's height, its width by the line's aspect. */
  private warpLine(frame: RawFrame, quad: Quad, width: number, height: number): RawFrame {
    const th = this.require().rec.input.shape[2];
    const tw = Math.max(8, Math.min(1024, Math.round((th * width) / height)));
    return warpQuad(frame, quad, tw, th);
  }

  /** One framing of a line, warped level at the recogniser's height and decoded as a plate. */
  private async decodeView(frame: RawFrame, quad: Quad, line: TextQuad, colour: PlateColour | null): Promise<PlateDecode | null> {
    const out = await this.recogniseRaw(this.warpLine(frame, quad, line.width, line.height));
    return this.grammar!.decode(out.data, out.steps, out.classes, colour ?? undefined);
  }

  /**
   * Lines shaped like plate text: found on the whole frame, then each detected again on a window of the
   * source pixels scaled to the size the detector outlines best (refine.ts); the widest lines first.
   */
  private async plateLines(frame: RawFrame): Promise<TextQuad[]> {
    const { det } = this.require();
    const unclip = det.thresholds.unclip ?? 1.5;
    const { regions, sx, sy } = await this.detectRegions(frame, this.opts.maxSide ?? 960);
    const coarse = textQuads(regions, sx, sy, unclip).filter(plateShaped).sort((a, b) => b.width - a.width);
    const lines: TextQuad[] = [];
    for (const line of coarse.slice(0, MAX_LINES)) {
      const win = refineWindow(line, frame.width, frame.height);
      const w = Math.max(32, Math.round(win.width * win.scale));
      const h = Math.max(32, Math.round(win.height * win.scale));
      const view = await resized(await crop(frame, [win.left, win.top, win.left + win.width, win.top + win.height]), w, h);
      // no further downscaling: the window is already at the scale it is meant to be read at
      const found = await this.detectRegions(view, Infinity);
      const inWindow = textQuads(found.regions, (found.sx * win.width) / w, (found.sy * win.height) / h, unclip)
        .map((l) => toSource(l, win));
      lines.push(matchRefined(line, inWindow, plateShaped) ?? line);
    }
    return lines;
  }

  private async findText(frame: RawFrame): Promise<Box[]> {
    const { regions, sx, sy } = await this.detectRegions(frame, this.opts.maxSide ?? 960);
    return regions.map((r) => [r.box[0] * sx, r.box[1] * sy, r.box[2] * sx, r.box[3] * sy] as Box);
  }

  /** DB text regions in map pixels, and the map → source scale. */
  private async detectRegions(frame: RawFrame, maxSide: number): Promise<{ regions: TextRegion[]; sx: number; sy: number }> {
    const { det } = this.require();
    const ratio = Math.min(1, maxSide / Math.max(frame.width, frame.height));
    // the DB network downsamples by 32, so both sides are rounded to multiples of 32
    const w = Math.max(32, Math.round((frame.width * ratio) / 32) * 32);
    const h = Math.max(32, Math.round((frame.height * ratio) / 32) * 32);
    const tensor = planarize(await resized(frame, w, h), det.input, w, h);
    const { outputs } = await this.pool!.run('det', { [det.input.name]: tensor }, { transfer: true });
    const map = outputs[det.output.names[0]!];
    if (!map) throw new CodedError('ERR_INFERENCE_FAILED', `${det.id}: output missing`);
    const mh = map.dims[2] ?? h;
    const mw = map.dims[3] ?? w;
    const regions = dbRegions(map.data, mw, mh, {
      binary: det.thresholds.binary ?? 0.3,
      score: det.thresholds.score ?? 0.6,
      unclip: det.thresholds.unclip ?? 1.5,
    });
    return { regions, sx: frame.width / mw, sy: frame.height / mh };
  }

  /** One text line → text. */
  private async recognise(line: RawFrame): Promise<Recognised> {
    const out = await this.recogniseRaw(line);
    return ctcGreedy(out.data, out.steps, out.classes, this.keys);
  }

  /** One text line → the recogniser's per-step probabilities. Height 48, width by aspect, padded to at least 320 as PaddleOCR does. */
  private async recogniseRaw(line: RawFrame): Promise<{ data: Float32Array; steps: number; classes: number; width: number }> {
    const { rec } = this.require();
    const th = rec.input.shape[2];
    const rw = Math.max(8, Math.ceil((th * line.width) / line.height));
    const tw = Math.max(320, rw);
    // pad with the value that normalises to 0, as PaddleOCR pads after normalising
    const spec = { ...rec.input, pad: rec.input.mean[0] };
    const tensor = planarize(await resized(line, rw, th), spec, tw, th);
    const { outputs } = await this.pool!.run('rec', { [rec.input.name]: tensor }, { transfer: true });
    const out = outputs[rec.output.names[0]!];
    if (!out) throw new CodedError('ERR_INFERENCE_FAILED', `${rec.id}: output missing`);
    return { data: out.data as Float32Array, steps: out.dims[1] ?? 0, classes: out.dims[2] ?? 0, width: tw };
  }

  private require(): { det: ModelManifest; rec: ModelManifest } {
    if (!this.pool || !this.det || !this.rec) throw new CodedError('ERR_DETECTOR_STOPPED', 'plate reader is not started');
    return { det: this.det, rec: this.rec };
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** A tight plate crop in which the detector finds no line is read whole. */
function wholeImage(frame: RawFrame): TextQuad {
  const { width: w, height: h } = frame;
  return { quad: [[0, 0], [w, 0], [w, h], [0, h]], width: w, height: h, angle: 0 };
}

export function createPlateReader(opts: PlateReaderOptions = {}): PlateReader {
  return new PlateReader(opts);
}
