import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_DIR, MODELS_DIR } from '@safe-community/testkit';
import {
  createDetector, createPrivacyFilter, FaceDetector, blurRegions, growBox, toRgb, type Box, type RawFrame,
} from '@safe-community/analytics';

const media = (f: string) => readFile(join(MEDIA_DIR, f));

/** Mean absolute pixel difference inside and outside a set of boxes. */
function diff(a: RawFrame, b: RawFrame, boxes: Box[]): { inside: number; outside: number } {
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 3;
      const d = (Math.abs(a.data[i]! - b.data[i]!) + Math.abs(a.data[i + 1]! - b.data[i + 1]!) + Math.abs(a.data[i + 2]! - b.data[i + 2]!)) / 3;
      if (boxes.some(([x1, y1, x2, y2]) => x >= x1 && x < x2 && y >= y1 && y < y2)) { inSum += d; inN++; } else { outSum += d; outN++; }
    }
  }
  return { inside: inSum / Math.max(1, inN), outside: outSum / Math.max(1, outN) };
}

t.test('snapshots blur the faces UltraFace finds and leave the rest alone', async (t) => {
  const privacy = createPrivacyFilter({ modelsDir: MODELS_DIR });
  const det = createDetector({ modelsDir: MODELS_DIR });
  await Promise.all([privacy.start(), det.start()]);
  t.teardown(() => Promise.all([privacy.stop(), det.stop()]));

  for (const [file, faces] of [['zidane.jpg', 2], ['messi5.jpg', 1]] as const) {
    const jpeg = await media(file);
    const original = await toRgb(jpeg);
    const snap = await privacy.snapshot(jpeg, await det.detect(jpeg));
    t.equal(snap.faces.length, faces, `${file}: ${faces} face(s) found`);
    t.equal(snap.jpeg.subarray(0, 2).toString('hex'), 'ffd8', `${file}: snapshot is a JPEG`);
    const after = await toRgb(snap.jpeg);
    t.same([after.width, after.height], [original.width, original.height], 'same size');
    for (const f of snap.faces) {
      const inner = growBox(f.box, -0.15, original.width, original.height);
      const d = diff(original, after, [inner]);
      t.ok(d.inside > 8, `${file}: face at [${f.box.map(Math.round)}] changed (mean |Δ| ${d.inside.toFixed(1)})`);
    }
    // outside the blurred regions only JPEG re-encoding noise remains
    const rest = diff(original, after, snap.blurred).outside;
    t.ok(rest < 4, `${file}: rest of the picture unchanged (mean |Δ| ${rest.toFixed(2)})`);
  }
});

t.test('face detector matches PROVENANCE.md: zidane face at [924,106,1053,279]', async (t) => {
  const faces = new FaceDetector({ modelsDir: MODELS_DIR });
  await faces.start();
  t.teardown(() => faces.stop());
  const found = await faces.detect(await media('zidane.jpg'));
  t.equal(found.length, 2);
  const top = found.reduce((a, b) => (a.score >= b.score ? a : b));
  top.box.forEach((v, i) => t.ok(Math.abs(v - [924, 106, 1053, 279][i]!) < 4, `box[${i}] ${v}`));
  t.equal((await faces.detect(await media('bus.jpg'))).length, 2, 'bus.jpg: 2 faces');
  t.equal((await faces.detect(await media('dog.jpg'))).length, 0, 'dog.jpg: no faces');
});

t.test('a picture without faces comes back unblurred; a corrupt one is refused', async (t) => {
  const privacy = createPrivacyFilter({ modelsDir: MODELS_DIR });
  await privacy.start();
  t.teardown(() => privacy.stop());
  const jpeg = await media('dog.jpg');
  const snap = await privacy.snapshot(jpeg);
  t.same(snap.blurred, []);
  const noise = diff(await toRgb(jpeg), await toRgb(snap.jpeg), []).outside;
  t.ok(noise < 4, `only re-encoding noise (mean |Δ| ${noise.toFixed(2)})`);
  await t.rejects(privacy.snapshot(jpeg.subarray(0, 5000)), { code: 'ERR_IMAGE_INVALID' });
});

t.test('blurRegions changes only its regions and does not touch its input', async (t) => {
  const frame: RawFrame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3) };
  // a checkerboard, so a blur must change it
  for (let i = 0; i < frame.data.length; i += 3) {
    const p = i / 3;
    frame.data.fill(((p % 64) + Math.floor(p / 64)) % 2 ? 255 : 0, i, i + 3);
  }
  const before = new Uint8Array(frame.data);
  const out = await blurRegions(frame, [[8, 8, 24, 24]]);
  t.same(frame.data, before, 'input untouched');
  const d = diff(frame, out, [[8, 8, 24, 24]]);
  t.ok(d.inside > 50, `region blurred (${d.inside.toFixed(1)})`);
  t.equal(d.outside, 0, 'outside identical');
});

t.test('distant faces: the head end of person boxes is searched too', async (t) => {
  const privacy = createPrivacyFilter({ modelsDir: MODELS_DIR });
  const det = createDetector({ modelsDir: MODELS_DIR });
  await Promise.all([privacy.start(), det.start()]);
  t.teardown(() => Promise.all([privacy.stop(), det.stop()]));
  const frame = await toRgb(await media('vtest_t12.jpg'));
  const persons = (await det.detect(frame)).filter((d) => d.label === 'person');
  t.equal((await privacy.findFaces(frame)).length, 0, 'a whole-frame 320×240 pass sees no face in the street scene');
  const faces = await privacy.findFaces(frame, persons);
  t.ok(faces.length >= 1, `${faces.length} face(s) found in person crops`);
  for (const f of faces) {
    const cx = (f.box[0] + f.box[2]) / 2;
    const cy = (f.box[1] + f.box[3]) / 2;
    t.ok(persons.some((p) => cx > p.box[0] && cx < p.box[2] && cy > p.box[1] && cy < (p.box[1] + p.box[3]) / 2),
      `face at [${f.box.map(Math.round)}] sits in the upper half of a person`);
  }
});
