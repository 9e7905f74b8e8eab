import t from 'tap';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MODELS_DIR } from '@safe-community/testkit';
import {
  listManifests, loadManifest, loadVerifiedModel, parseManifest, readVerified, resolveModelsDir, sha256Hex,
} from '@safe-community/models';
import { createDetector, InferencePool } from '@safe-community/analytics';

t.test('every manifest parses, and the shared weights match their sha256', async (t) => {
  const all = await listManifests();
  t.same(all.map((m) => m.id).sort(), [
    'fastestdet_352_coco', 'ppocr_v4_det', 'ppocr_v4_rec', 'ultraface_rfb_320x240', 'ultraface_rfb_640x480', 'yolox_nano_416_coco',
  ]);
  for (const m of all) {
    const v = await loadVerifiedModel(m, MODELS_DIR);
    t.equal(v.bytes.length, m.size, `${m.id} size`);
  }
  const yolox = await loadVerifiedModel(await loadManifest('yolox_nano_416_coco'), MODELS_DIR);
  t.equal(yolox.labels.length, 80);
  t.equal(yolox.labels[0], 'person');
});

t.test('MODELS_DIR setting, default next to the repository', async (t) => {
  t.equal(resolveModelsDir({ MODELS_DIR: '/srv/models' }), '/srv/models');
  t.match(resolveModelsDir({}), /\/shared\/models$/);
});

t.test('a manifest with an unknown key or a bad hash is refused', async (t) => {
  const good = structuredClone(await loadManifest('fastestdet_352_coco')) as Record<string, unknown>;
  t.throws(() => parseManifest({ ...good, extra: 1 }, 'test'), { code: 'ERR_MODEL_MANIFEST' });
  t.throws(() => parseManifest({ ...good, sha256: 'abc' }, 'test'), { code: 'ERR_MODEL_MANIFEST', message: /sha256/ });
  await t.rejects(loadManifest('no_such_model'), { code: 'ERR_MODEL_MANIFEST' });
  await t.rejects(loadManifest('../etc/passwd'), { code: 'ERR_MODEL_MANIFEST' });
});

t.test('wrong sha256: ERR_MODEL_INVALID naming the file and both hashes; no worker is started', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'models-bad-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = Buffer.from('this is not the YOLOX-Nano weights file');
  await writeFile(join(dir, 'yolox_nano_416_coco.onnx'), fake);
  await copyFile(join(MODELS_DIR, 'coco80.txt'), join(dir, 'coco80.txt'));
  const m = await loadManifest('yolox_nano_416_coco');

  const err = await readVerified(join(dir, m.file), m.sha256).then(() => null, (e: Error & { code?: string }) => e);
  t.equal(err?.code, 'ERR_MODEL_INVALID');
  t.match(err?.message, 'yolox_nano_416_coco.onnx');
  t.match(err?.message, sha256Hex(fake), 'names the actual hash');
  t.match(err?.message, m.sha256, 'names the expected hash');

  const det = createDetector({ modelsDir: dir });
  await t.rejects(det.start(), { code: 'ERR_MODEL_INVALID', message: /yolox_nano_416_coco\.onnx/ });
  await t.rejects(det.detect(Buffer.alloc(1)), { code: 'ERR_DETECTOR_STOPPED' });
});

t.test('a missing file: ERR_MODEL_MISSING', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'models-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(createDetector({ model: 'fastestdet', modelsDir: dir }).start(), { code: 'ERR_MODEL_MISSING', message: /fastestdet_352_coco\.onnx/ });
});

t.test('bytes onnxruntime cannot load: ERR_MODEL_LOAD, pool cleaned up', async (t) => {
  const pool = new InferencePool({ name: 'garbage', models: { main: new Uint8Array([1, 2, 3, 4]) } });
  await t.rejects(pool.start(), { code: 'ERR_MODEL_LOAD' });
  t.equal(pool.size, 0, 'no workers left behind');
  await t.rejects(pool.run('main', {}), { code: 'ERR_INFERENCE_STOPPED' });
});

t.test('the verify and fetch scripts: all present and verified here; a bad folder fails', async (t) => {
  const run = promisify(execFile);
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const script = (name: string) => join(root, 'models', 'scripts', name);
  const env = { ...process.env, MODELS_DIR };

  const verify = await run(process.execPath, ['--import', 'tsx', script('verify.ts')], { env, cwd: root });
  t.equal(verify.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 9, 'six models and three labels files verified');

  // every file is already there, so fetch only verifies and never touches the network
  const fetched = await run(process.execPath, ['--import', 'tsx', script('fetch.ts')], { env, cwd: root });
  t.equal(fetched.stdout.split('\n').filter((l) => l.startsWith('present')).length, 9);

  const dir = await mkdtemp(join(tmpdir(), 'models-verify-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'fastestdet_352_coco.onnx'), 'wrong');
  const bad = await run(process.execPath, ['--import', 'tsx', script('verify.ts')], { env: { ...env, MODELS_DIR: dir }, cwd: root })
    .then(() => null, (e: { code: number; stdout: string }) => e);
  t.equal(bad?.code, 1, 'exit code 1');
  t.match(bad?.stdout, /FAIL\s+fastestdet_352_coco\s+fastestdet_352_coco\.onnx: ERR_MODEL_INVALID/);
});
