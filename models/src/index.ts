export {
  ModelManifestSchema, loadManifest, listManifests, parseManifest, resolveModelsDir,
  MODELS_PACKAGE_DIR, MANIFESTS_DIR, type ModelManifest,
} from './manifest.js';
export { sha256Hex, readVerified, loadVerifiedModel, type VerifiedModel } from './verify.js';
