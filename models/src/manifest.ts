/**
 * Model manifests: one JSON file per model in `models/manifests/`, describing the weights file (name, sha256,
 * size), how to feed it (input name, shape, colour order, resize mode, normalisation) and how to read it
 * (output names, decoder, labels, default thresholds). The schema rejects unknown keys so a typo in a
 * manifest fails at load instead of silently falling back to a default.
 */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CodedError } from '@safe-community/runtime';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

const Source = Type.Object({
  url: Type.Optional(Type.String({ description: 'where the fetch script downloads the file (or the archive holding it)' })),
  member: Type.Optional(Type.String({ description: 'path of the file inside a .tgz archive' })),
  bundled: Type.Optional(Type.String({ description: 'path relative to models/ of a copy kept in this repository' })),
  note: Type.Optional(Type.String()),
}, { additionalProperties: false });

export const ModelManifestSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9_]+$' }),
  task: Type.Union([Type.Literal('detect'), Type.Literal('face'), Type.Literal('ocr-det'), Type.Literal('ocr-rec')]),
  file: Type.String({ minLength: 1 }),
  sha256: Sha256,
  size: Type.Integer({ minimum: 1 }),
  licence: Type.String({ minLength: 1 }),
  source: Source,
  input: Type.Object({
    name: Type.String(),
    /** NCHW; -1 marks a dynamic dimension. */
    shape: Type.Tuple([Type.Integer(), Type.Literal(3), Type.Integer(), Type.Integer()]),
    colour: Type.Union([Type.Literal('RGB'), Type.Literal('BGR')]),
    /**
     * letterbox: keep ratio, image at top-left, pad the rest; stretch: resize to the input size;
     * multiple-of-32: keep ratio, round both sides to 32; height: scale to the input height, width follows.
     */
    resize: Type.Union([Type.Literal('letterbox'), Type.Literal('stretch'), Type.Literal('multiple-of-32'), Type.Literal('height')]),
    pad: Type.Number({ minimum: 0, maximum: 255 }),
    /** value fed = (pixel − mean[c]) / std[c], pixel in 0..255, c in the model's colour order. */
    mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
    std: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })]),
  }, { additionalProperties: false }),
  output: Type.Object({
    names: Type.Array(Type.String(), { minItems: 1 }),
    decode: Type.Union([Type.Literal('yolox'), Type.Literal('fastestdet'), Type.Literal('ultraface'), Type.Literal('db'), Type.Literal('ctc')]),
    strides: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
  }, { additionalProperties: false }),
  labels: Type.Optional(Type.Object({ file: Type.String(), sha256: Sha256, source: Source }, { additionalProperties: false })),
  thresholds: Type.Record(Type.String(), Type.Number()),
  card: Type.String(),
}, { additionalProperties: false });

export type ModelManifest = Static<typeof ModelManifestSchema>;

/** This package's folder (models/), whatever the caller's working directory. */
export const MODELS_PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFESTS_DIR = join(MODELS_PACKAGE_DIR, 'manifests');

/**
 * Where the weights live: the MODELS_DIR setting, else `../shared/models` next to the repository root.
 * Weights are never committed, so this is always outside the tree by default.
 */
export function resolveModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MODELS_DIR?.trim();
  return fromEnv ? resolve(fromEnv) : resolve(MODELS_PACKAGE_DIR, '..', '..', 'shared', 'models');
}

/** Checks a parsed manifest; throws ERR_MODEL_MANIFEST with the first problems found. */
export function parseManifest(value: unknown, origin: string): ModelManifest {
  if (!Value.Check(ModelManifestSchema, value)) {
    const problems = [...Value.Errors(ModelManifestSchema, value)].slice(0, 3)
      .map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    throw new CodedError('ERR_MODEL_MANIFEST', `invalid model manifest ${origin}: ${problems}`);
  }
  return value;
}

const cache = new Map<string, ModelManifest>();

/** Loads `manifests/<id>.json` (cached; manifests are part of the code, not runtime config). */
export async function loadManifest(id: string): Promise<ModelManifest> {
  const hit = cache.get(id);
  if (hit) return hit;
  if (!/^[a-z0-9_]+$/.test(id)) throw new CodedError('ERR_MODEL_MANIFEST', `invalid model id "${id}"`);
  const path = join(MANIFESTS_DIR, `${id}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CodedError('ERR_MODEL_MANIFEST', `no manifest for model "${id}" (${path})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CodedError('ERR_MODEL_MANIFEST', `manifest ${path} is not JSON`, { cause: err });
  }
  const manifest = Object.freeze(parseManifest(json, path));
  if (manifest.id !== id) throw new CodedError('ERR_MODEL_MANIFEST', `manifest ${path} names id "${manifest.id}"`);
  cache.set(id, manifest);
  return manifest;
}

/** Every manifest in the folder, sorted by id. */
export async function listManifests(): Promise<ModelManifest[]> {
  const names = (await readdir(MANIFESTS_DIR)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(names.map((n) => loadManifest(n.slice(0, -5))));
}
