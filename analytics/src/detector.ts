/**
 * Object detection on onnxruntime-node: YOLOX-Nano (default) or FastestDet, run in a small worker pool.
 * The per-frame path is prepare (resize + tensor, main thread, sharp) → run (worker) → decode + NMS (main).
 * `prepare` and `runRaw` are public so a benchmark can time raw session.run on the same tensors.
 */
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '@safe-community/models';
import { CodedError, type Logger } from '@safe-community/runtime';
import { toRgb, type ImageInput } from './image.js';
import { prepareFixed, type Prepared } from './preprocess.js';
import { decodeFastestDet, decodeYolox, type Candidate } from './decoders.js';
import { clampBox, nms, type Detection } from './detection.js';
import type { InferencePool, RunResult } from './infer/pool.js';
import type { TensorData } from './infer/protocol.js';
import { loadModel, openModelPool } from './models.js';

export interface DetectorOptions {
  /** 'yolox' (default), 'fastestdet', or a manifest id of a detect model. */
  model?: string;
  /** Where the weights are; default MODELS_DIR or ../shared/models. */
  modelsDir?: string;
  /** Inference workers (default 1). */
  workers?: number;
  /** Per-session intra-op threads (default 1); with 2, spinning is turned off unless asked for. */
  intraOpNumThreads?: number;
  allowSpinning?: boolean;
  /** Minimum score; default the manifest's thresholds.score. */
  scoreThreshold?: number;
  /** Per-label minimum scores that override scoreThreshold, e.g. { person: 0.65 } for FastestDet. */
  labelThresholds?: Record<string, number>;
  /** Keep only these labels (default all). */
  labels?: string[];
  /** IoU for class-wise NMS; default the manifest's thresholds.nms. */
  nmsIou?: number;
  logger?: Logger;
}

export interface DetectOptions {
  scoreThreshold?: number;
  labels?: string[];
}

/** What the video pipeline needs from a detector. */
export interface Detector {
  start(): Promise<void>;
  stop(): Promise<void>;
  detect(image: ImageInput, opts?: DetectOptions): Promise<Detection[]>;
}

export class OnnxDetector implements Detector {
  private pool?: InferencePool;
  private spec?: ModelManifest;
  private names: string[] = [];
  private inputName = '';
  private outputName = '';

  constructor(private readonly opts: DetectorOptions = {}) {}

  get manifest(): ModelManifest {
    if (!this.spec) throw new CodedError('ERR_DETECTOR_STOPPED', 'detector is not started');
    return this.spec;
  }

  get labels(): readonly string[] {
    return this.names;
  }

  async start(): Promise<void> {
    if (this.pool) return;
    const { pool, models } = await openModelPool({ main: { model: this.opts.model ?? 'yolox', task: 'detect' } }, this.opts);
    const model = models.main;
    this.spec = model.manifest;
    this.names = model.labels;
    this.inputName = model.manifest.input.name;
    this.outputName = model.manifest.output.names[0]!;
    this.pool = pool;
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.stop();
  }

  /** Decode (if encoded), resize and normalise per the manifest. */
  async prepare(image: ImageInput): Promise<Prepared> {
    const spec = this.manifest.input;
    return prepareFixed(await toRgb(image), spec);
  }

  /** session.run on a prepared tensor (in a pool worker), nothing else. The tensor is copied, not moved. */
  async runRaw(tensor: TensorData): Promise<RunResult> {
    return this.requirePool().run('main', { [this.inputName]: tensor });
  }

  /** Output tensor → detections in source pixels (threshold, class-wise NMS, label filter). */
  decode(outputs: Record<string, TensorData>, prep: Prepared, opts: DetectOptions = {}): Detection[] {
    const m = this.manifest;
    const out = outputs[this.outputName];
    if (!out) throw new CodedError('ERR_INFERENCE_FAILED', `${m.id}: output "${this.outputName}" missing`);
    const base = opts.scoreThreshold ?? this.opts.scoreThreshold ?? m.thresholds.score ?? 0.3;
    const perLabel = this.opts.labelThresholds ?? {};
    // decode at the lowest threshold any label uses, then apply per-label thresholds
    const floor = Math.min(base, ...Object.values(perLabel));
    const cands: Candidate[] = m.output.decode === 'yolox'
      ? decodeYolox(out, prep, m.input.shape[3], m.input.shape[2], m.output.strides ?? [8, 16, 32], floor)
      : decodeFastestDet(out, prep, floor);
    const only = opts.labels ?? this.opts.labels;
    const kept = cands.filter((c) => {
      const label = this.names[c.cls] ?? String(c.cls);
      return c.score >= (perLabel[label] ?? base) && (!only || only.includes(label));
    });
    return nms(kept, this.opts.nmsIou ?? m.thresholds.nms ?? 0.45).map((c) => ({
      cls: c.cls,
      label: this.names[c.cls] ?? String(c.cls),
      score: Math.round(c.score * 1000) / 1000,
      box: clampBox(c.box, prep.width, prep.height),
    }));
  }

  async detect(image: ImageInput, opts: DetectOptions = {}): Promise<Detection[]> {
    const pool = this.requirePool();
    const prep = await this.prepare(image);
    const result = await pool.run('main', { [this.inputName]: prep.tensor }, { transfer: true });
    return this.decode(result.outputs, prep, opts);
  }

  private requirePool(): InferencePool {
    if (!this.pool) throw new CodedError('ERR_DETECTOR_STOPPED', 'detector is not started');
    return this.pool;
  }
}

export function createDetector(opts: DetectorOptions = {}): OnnxDetector {
  return new OnnxDetector(opts);
}

/**
 * A plain in-thread onnxruntime session for the same verified model, for measuring raw session.run next to
 * the pipeline. Same session settings as the workers. The caller releases it.
 */
export async function openRawSession(model = 'yolox', opts: { modelsDir?: string; intraOpNumThreads?: number; allowSpinning?: boolean } = {}): Promise<ort.InferenceSession> {
  const m = await loadModel(model, opts.modelsDir);
  const threads = opts.intraOpNumThreads ?? 1;
  return ort.InferenceSession.create(m.bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: (opts.allowSpinning ?? threads === 1) ? '1' : '0' } } },
  });
}
