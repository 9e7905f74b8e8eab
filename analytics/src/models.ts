/** Resolving a model by name or manifest id, and loading its verified bytes and labels. */
import { loadManifest, loadVerifiedModel, resolveModelsDir, type ModelManifest, type VerifiedModel } from '@safe-community/models';
import { CodedError } from '@safe-community/runtime';

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
