/**
 * The one model loader: resolving a model by name or manifest id, loading its verified bytes and labels,
 * and starting the inference pool an analytic runs them in.
 */
import { loadManifest, loadVerifiedModel, resolveModelsDir, type ModelManifest, type VerifiedModel } from '@safe-community/models';
import { CodedError, type Logger } from '@safe-community/runtime';
import { InferencePool } from './infer/pool.js';

/** Short names for the models the analytics know how to run. */
export const MODEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  yolox: 'yolox_nano_416_coco',
  fastestdet: 'fastestdet_352_coco',
  ultraface: 'ultraface_rfb_320x240',
  'ultraface-320': 'ultraface_rfb_320x240',
  'ultraface-640': 'ultraface_rfb_640x480',
  'ocr-det': 'ppocr_v4_det',
  'ocr-rec': 'ppocr_v4_rec',
});

export async function loadModel(name: string, modelsDir?: string, expectTask?: ModelManifest['task']): Promise<VerifiedModel> {
  const manifest = await loadManifest(MODEL_ALIASES[name] ?? name);
  if (expectTask && manifest.task !== expectTask) {
    throw new CodedError('ERR_MODEL_MANIFEST', `model ${manifest.id} is a ${manifest.task} model, not ${expectTask}`);
  }
  return loadVerifiedModel(manifest, modelsDir ?? resolveModelsDir());
}

/** A model one analytic runs: its name (alias or manifest id) and the task its manifest must state. */
export interface WantedModel {
  model: string;
  task: ModelManifest['task'];
}

export interface ModelPoolOptions {
  /** Where the weights are; default MODELS_DIR or ../shared/models. */
  modelsDir?: string;
  /** Inference workers (default 1). */
  workers?: number;
  /** Per-session intra-op threads (default 1). */
  intraOpNumThreads?: number;
  allowSpinning?: boolean;
  logger?: Logger;
}

export interface ModelPool<S extends string> {
  pool: InferencePool;
  /** Each slot's verified model (manifest, labels, bytes). */
  models: Record<S, VerifiedModel>;
}

/**
 * Loads and verifies each wanted model and starts one inference pool holding them all, under the slot
 * names given (what the detector, the face detector and the plate reader each start with). The pool is
 * named after `name`, or the first model's manifest id.
 */
export async function openModelPool<S extends string>(wanted: Record<S, WantedModel>, opts: ModelPoolOptions & { name?: string } = {}): Promise<ModelPool<S>> {
  const slots = Object.keys(wanted) as S[];
  const loaded = await Promise.all(slots.map((slot) => loadModel(wanted[slot].model, opts.modelsDir, wanted[slot].task)));
  const models = Object.fromEntries(slots.map((slot, i) => [slot, loaded[i]!])) as Record<S, VerifiedModel>;
  const pool = new InferencePool({
    name: opts.name ?? loaded[0]!.manifest.id,
    models: Object.fromEntries(slots.map((slot, i) => [slot, loaded[i]!.bytes])),
    size: opts.workers ?? 1,
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    ...(opts.allowSpinning !== undefined ? { allowSpinning: opts.allowSpinning } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  await pool.start();
  return { pool, models };
}
