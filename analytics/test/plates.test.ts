import t from 'tap';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { join } from 'node:path';
import { MEDIA_DIR, MODELS_DIR } from '@safe-community/testkit';
import {
  createPlateReader, ctcGreedy, isPlausiblePlate, maskPlate, normalisePlateText, plateKey, toRgb,
} from '@safe-community/analytics';

const media = (f: string) => readFile(join(MEDIA_DIR, f));

t.test('the three rendered plates read exactly', async (t) => {
  const reader = createPlateReader({ modelsDir: MODELS_DIR });
  await reader.start();
  t.teardown(() => reader.stop());

  const cases = [
    ['plate_jing_A12345_blue.jpg', '京A·12345', '京A12345', 'ordinary', 'blue'],
    ['plate_hu_B9X77Q_white.jpg', '沪B·9X77Q', '沪B9X77Q', 'ordinary', 'white'],
    ['plate_yue_green.jpg', '粤B·D12345', '粤BD12345', 'nev-small', 'green'],
  ] as const;
  for (const [file, text, key, format, colour] of cases) {
    const read = await reader.read(await media(file));
    t.ok(read, `${file}: a plate was read`);
    t.equal(read?.text, text, `${file}: text`);
    t.equal(read?.plate, key, `${file}: list key`);
    t.equal(read?.format, format, `${file}: format`);
    t.equal(read?.colour, colour, `${file}: colour`);
    t.ok((read?.minConfidence ?? 0) > 0.9, `${file}: weakest character ${read?.minConfidence}`);
  }

  // a raw frame of the same picture reads the same
  const frame = await toRgb(await media('plate_jing_A12345_blue.jpg'));
  t.equal((await reader.read(frame))?.plate, '京A12345', 'raw RGB frame');

  // The same photo rolled 20° (as a camera mounted askew sees it) is straightened before it is read.
  const rolled = await sharp(await media('plate_jing_A12345_blue.jpg')).rotate(20, { background: '#808080' }).jpeg().toBuffer();
  t.equal((await reader.read(rolled))?.plate, '京A12345', 'rolled 20°');
  const rolledBack = await sharp(await media('plate_yue_green.jpg')).rotate(-22, { background: '#808080' }).jpeg().toBuffer();
  t.equal((await reader.read(rolledBack))?.plate, '粤BD12345', 'rolled −22°');

  // Bus lettering is text, not a plate: no format fits confidently, nothing is reported.
  t.equal(await reader.read(await media('bus.jpg')), null, 'bus.jpg: no plate');

  t.equal(await reader.read(await media('dog.jpg')), null, 'no text: null');
  await t.rejects(reader.read(Buffer.from('garbage')), { code: 'ERR_IMAGE_INVALID' }, 'corrupt image');
});

t.test('plate text helpers', async (t) => {
  t.equal(normalisePlateText('粤B D12345'), '粤BD12345', 'spaces dropped');
  t.equal(normalisePlateText('沪B•9X77Q'), '沪B·9X77Q', 'separator written as a middle dot');
  t.equal(plateKey('沪b·9x77q'), '沪B9X77Q');
  t.ok(isPlausiblePlate('沪B·9X77Q'));
  t.ok(isPlausiblePlate('粤BD12345'), 'new-energy plates have 6 characters after the issuer');
  t.notOk(isPlausiblePlate('cero'));
  t.notOk(isPlausiblePlate('京A1234O'), 'the letter O is not used');
  t.equal(maskPlate('京A12345'), '京A***45', 'logs see a masked form');
});

t.test('greedy CTC: blanks separate repeats, last index is a space', async (t) => {
  const keys = ['a', 'b'];
  // classes: 0 blank, 1 'a', 2 'b', 3 space; steps: a a blank a b space b
  const seq = [1, 1, 0, 1, 2, 3, 2];
  const probs = new Float32Array(seq.length * 4);
  seq.forEach((k, i) => { probs[i * 4 + k] = 0.9; });
  probs[4 + 1] = 0.5; // second 'a' step is weaker but merged into the first
  const r = ctcGreedy(probs, seq.length, 4, keys);
  t.equal(r.text, 'aab b');
  t.equal(r.chars.length, 5);
  t.ok(Math.abs(r.confidence - 0.9) < 1e-6);
});
