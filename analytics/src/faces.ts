/**
 * Face detection with UltraFace (RFB 320×240 by default, 640×480 optional), used only to find faces so they
 * can be blurred; it never identifies anyone (DESIGN.md: faces are detected only to blur them).
 */
import type { ModelManifest } from '@safe-community/models';
import { CodedError, type Logger } from '@safe-community/runtime';
import { rawSharp, toRgb, type ImageInput, type RawFrame } from './image.js';
import { prepareFixed } from './preprocess.js';
import { decodeUltraface } from './decoders.js';
import { clampBox, nms, type Box } from './detection.js';
import type { InferencePool } from './infer/pool.js';
import { openModelPool } from './models.js';

export interface Face {
  score: number;
  box: Box;
}

export interface FaceDetectorOptions {
  /** 'ultraface-320' (default) or 'ultraface-640'. */
  model?: string;
  modelsDir?: string;
  workers?: number;
  intraOpNumThreads?: number;
  /** Keep faces scoring above this; default the manifest's 0.7. */
  scoreThreshold?: number;
  nmsIou?: number;
  logger?: Logger;
}

export class FaceDetector {
  private pool?: InferencePool;
  private spec?: ModelManifest;

  constructor(private readonly opts: FaceDetectorOptions = {}) {}

  async start(): Promise<void> {
    if (this.pool) return;
    const { pool, models } = await openModelPool({ main: { model: this.opts.model ?? 'ultraface-320', task: 'face' } }, this.opts);
    this.spec = models.main.manifest;
    this.pool = pool;
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.stop();
  }

  /** Faces in the whole image, boxes in source pixels. */
  async detect(image: ImageInput): Promise<Face[]> {
    this.require();
    return this.detectIn(await toRgb(image));
  }

  /**
   * Faces inside one region of a frame. Small faces in wide surveillance frames fall below what a 320×240
   * input can see; running on a crop (e.g. the head end of a person box) gives them enough pixels.
   */
  async detectInRegion(frame: RawFrame, region: Box): Promise<Face[]> {
    this.require();
    const left = Math.max(0, Math.floor(region[0]));
    const top = Math.max(0, Math.floor(region[1]));
    const width = Math.min(frame.width, Math.ceil(region[2])) - left;
    const height = Math.min(frame.height, Math.ceil(region[3])) - top;
    if (width < 8 || height < 8) return [];
    const data = await rawSharp(frame).extract({ left, top, width, height }).raw().toBuffer();
    const crop: RawFrame = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    return (await this.detectIn(crop)).map((f) => ({
      score: f.score,
      box: [f.box[0] + left, f.box[1] + top, f.box[2] + left, f.box[3] + top],
    }));
  }

  private async detectIn(frame: RawFrame): Promise<Face[]> {
    const spec = this.require();
    const prep = await prepareFixed(frame, spec.input);
    const { outputs } = await this.pool!.run('main', { [spec.input.name]: prep.tensor }, { transfer: true });
    const scores = outputs[spec.output.names[0]!];
    const boxes = outputs[spec.output.names[1]!];
    if (!scores || !boxes) throw new CodedError('ERR_INFERENCE_FAILED', `${spec.id}: scores/boxes outputs missing`);
    const found = decodeUltraface(scores, boxes, frame.width, frame.height, this.opts.scoreThreshold ?? spec.thresholds.score ?? 0.7);
    return nms(found, this.opts.nmsIou ?? spec.thresholds.nms ?? 0.3).map((c) => ({
      score: Math.round(c.score * 1000) / 1000,
      box: clampBox(c.box, frame.width, frame.height),
    }));
  }

  private require(): ModelManifest {
    if (!this.pool || !this.spec) throw new CodedError('ERR_DETECTOR_STOPPED', 'face detector is not started');
    return this.spec;
  }
}
