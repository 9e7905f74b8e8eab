/**
 * Licence-plate reading at barriers with PaddleOCR PP-OCRv4: DB text detection finds text lines, the CRNN
 * recogniser reads each line, and the most plate-like line wins. Both models run in one worker pool.
 * Plate text is personal data; this class only returns it (see README: retention).
 */
import type { ModelManifest } from '@safe-community/models';
import { CodedError, type Logger } from '@safe-community/runtime';
import { rawSharp, toRgb, type ImageInput, type RawFrame } from '../image.js';
import { planarize } from '../preprocess.js';
import type { Box } from '../detection.js';
import { InferencePool } from '../infer/pool.js';
import { loadModel } from '../models.js';
import { dbRegions } from './db.js';
import { ctcGreedy, type Recognised } from './ctc.js';
import { isPlausiblePlate, normalisePlateText, plateKey } from './text.js';

export interface TextLine extends Recognised {
  /** Source pixels. */
  box: Box;
}

export interface PlateRead {
  /** As printed, e.g. 沪B·9X77Q. */
  text: string;
  /** Without separators, for list matching, e.g. 沪B9X77Q. */
  plate: string;
  confidence: number;
  minConfidence: number;
  /** Matches the mainland plate pattern. */
  valid: boolean;
  box: Box;
}

export interface PlateReaderOptions {
  modelsDir?: string;
  workers?: number;
  intraOpNumThreads?: number;
  /** Longest side fed to the text detector (PaddleOCR's limit_side_len, 960). */
  maxSide?: number;
  /** Reads below this mean confidence are not returned by read(); default the manifest's 0.8. */
  minConfidence?: number;
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

  constructor(private readonly opts: PlateReaderOptions = {}) {}

  async start(): Promise<void> {
    if (this.pool) return;
    const [det, rec] = await Promise.all([
      loadModel('ocr-det', this.opts.modelsDir, 'ocr-det'),
      loadModel('ocr-rec', this.opts.modelsDir, 'ocr-rec'),
    ]);
    const pool = new InferencePool({
      name: 'ppocr_v4',
      models: { det: det.bytes, rec: rec.bytes },
      size: this.opts.workers ?? 1,
      intraOpNumThreads: this.opts.intraOpNumThreads ?? 1,
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
    });
    await pool.start();
    this.det = det.manifest;
    this.rec = rec.manifest;
    this.keys = rec.labels;
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
   * The plate in a picture of a plate or a vehicle front: the most confident line matching the plate pattern,
   * else the most confident line; null when nothing reads above minConfidence. A tight plate crop where the
   * detector finds no line is read whole.
   */
  async read(image: ImageInput): Promise<PlateRead | null> {
    const { rec } = this.require();
    const frame = await toRgb(image);
    let lines = await this.readText(frame);
    if (!lines.length) {
      const whole = await this.recognise(frame);
      if (whole.text.trim()) lines = [{ ...whole, box: [0, 0, frame.width, frame.height] }];
    }
    const min = this.opts.minConfidence ?? rec.thresholds.score ?? 0.8;
    const reads = lines
      .map((l): PlateRead => ({
        text: normalisePlateText(l.text),
        plate: plateKey(l.text),
        confidence: Math.round(l.confidence * 1000) / 1000,
        minConfidence: Math.round(l.minConfidence * 1000) / 1000,
        valid: isPlausiblePlate(l.text),
        box: l.box,
      }))
      .filter((r) => r.confidence >= min)
      .sort((a, b) => Number(b.valid) - Number(a.valid) || b.confidence - a.confidence);
    return reads[0] ?? null;
  }

  private async findText(frame: RawFrame): Promise<Box[]> {
    const { det } = this.require();
    const maxSide = this.opts.maxSide ?? 960;
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
    const sx = frame.width / mw;
    const sy = frame.height / mh;
    return regions.map((r) => [r.box[0] * sx, r.box[1] * sy, r.box[2] * sx, r.box[3] * sy] as Box);
  }

  /** One text line → text. Height 48, width by aspect, padded to at least 320 as PaddleOCR does. */
  private async recognise(line: RawFrame): Promise<Recognised> {
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
    return ctcGreedy(out.data, out.dims[1] ?? 0, out.dims[2] ?? 0, this.keys);
  }

  private require(): { det: ModelManifest; rec: ModelManifest } {
    if (!this.pool || !this.det || !this.rec) throw new CodedError('ERR_DETECTOR_STOPPED', 'plate reader is not started');
    return { det: this.det, rec: this.rec };
  }
}

export function createPlateReader(opts: PlateReaderOptions = {}): PlateReader {
  return new PlateReader(opts);
}
