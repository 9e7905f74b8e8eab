import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '@safe-community/testkit';
import { applyHomography, homography, orientedRect, PlateGrammar, plateFormat, warpQuad, type Quad } from '@safe-community/analytics';

const keys = readFileSync(join(MODELS_DIR, 'ppocr_keys_v1.txt'), 'utf8').split('\n').filter((k) => k.length > 0);
const classes = keys.length + 2;
const grammar = new PlateGrammar(keys);

/**
 * A CTC output spelling `text` (one step per character, blanks between), each character at probability p,
 * with `alt` giving a second-best character per position index.
 */
function ctc(text: string, p = 0.97, alt: Record<number, [string, number]> = {}): { probs: Float32Array; steps: number } {
  const chars = [...text];
  // about 4 steps per character, as the recogniser gives on a plate line
  const steps = chars.length * 4 + 1;
  const probs = new Float32Array(steps * classes);
  for (let s = 0; s < steps; s++) probs[s * classes] = 1; // blank
  chars.forEach((c, i) => {
    const row = (4 * i + 2) * classes;
    probs[row] = 0;
    const k = c === ' ' ? keys.length + 1 : keys.indexOf(c) + 1;
    if (k <= 0) throw new Error(`no key ${c}`);
    probs[row + k] = p;
    const a = alt[i];
    if (a) probs[row + keys.indexOf(a[0]) + 1] = a[1];
    probs[row] = Math.max(0, 1 - p - (a?.[1] ?? 0));
  });
  return { probs, steps };
}

const decode = (text: string, colour?: Parameters<PlateGrammar['decode']>[3], p?: number, alt?: Record<number, [string, number]>) => {
  const { probs, steps } = ctc(text, p, alt);
  return grammar.decode(probs, steps, classes, colour);
};

t.test('plate formats: ordinary, new-energy, police, trailer', async (t) => {
  t.match(decode('京A12345'), { plate: '京A12345', text: '京A·12345', format: 'ordinary' });
  t.match(decode('粤BD12345', 'green'), { plate: '粤BD12345', format: 'nev-small' });
  t.match(decode('粤B12345D', 'yellow'), { plate: '粤B12345D', format: 'nev-large' });
  t.match(decode('苏A1234警', 'white'), { plate: '苏A1234警', format: 'police' });
  t.match(decode('鲁B1234挂', 'yellow'), { plate: '鲁B1234挂', format: 'suffixed' });
  t.equal(plateFormat('京A12345'), 'ordinary');
  t.equal(plateFormat('京A1234O'), null, 'the letter O is not used');
});

t.test('separators are not characters: a dot or a "-" between the groups is dropped', async (t) => {
  t.equal(decode('沪B·9X77Q')?.plate, '沪B9X77Q');
  t.equal(decode('沪B-9X77Q')?.plate, '沪B9X77Q');
  t.equal(decode('沪B 9X77Q')?.plate, '沪B9X77Q');
});

t.test('each position reads only what it may hold', async (t) => {
  // An "O" where a digit or letter other than O must stand is taken as its best allowed alternative.
  t.equal(decode('京A1234O', undefined, 0.6, { 6: ['0', 0.3] })?.plate, '京A12340');
  // A non-province first character is replaced by the best province the recogniser saw there.
  const r = decode('大A12345', undefined, 0.7, { 0: ['京', 0.2] });
  t.equal(r?.plate, '京A12345');
  t.ok((r?.chars[0]?.p ?? 1) < 0.3, 'and the province keeps its low probability for the gate');
});

t.test('a read that fits no format is not a plate', async (t) => {
  t.equal(decode('粤BD1234', 'green'), null, 'a green plate short of its last digit (fits the 7-character pattern) is refused');
  t.equal(decode('CERO'), null, 'bus lettering');
  t.equal(decode('12345'), null, 'no province');
  t.equal(decode('京A12345', 'green'), null, 'green plates have 8 characters');
});

t.test('quadrilaterals: oriented rectangle, homography, warp', async (t) => {
  // pixels of a 40×10 bar rolled 20°
  const xs: number[] = [];
  const ys: number[] = [];
  const a = (20 * Math.PI) / 180;
  for (let u = -20; u < 20; u++) for (let v = -5; v < 5; v++) {
    xs.push(100 + u * Math.cos(a) - v * Math.sin(a));
    ys.push(100 + u * Math.sin(a) + v * Math.cos(a));
  }
  const r = orientedRect(xs, ys);
  t.ok(Math.abs(r.angle - a) < 0.02, `roll ${(r.angle * 180 / Math.PI).toFixed(1)}°`);
  t.ok(Math.abs(r.width - 40) < 1.5 && Math.abs(r.height - 10) < 1.5, `size ${r.width.toFixed(1)}×${r.height.toFixed(1)}`);
  const quad: Quad = [[10, 20], [110, 30], [105, 60], [12, 55]];
  const h = homography([[0, 0], [100, 0], [100, 30], [0, 30]], quad);
  quad.forEach((p, i) => {
    const src = ([[0, 0], [100, 0], [100, 30], [0, 30]] as const)[i]!;
    const m = applyHomography(h, src[0], src[1]);
    t.ok(Math.hypot(m[0] - p[0], m[1] - p[1]) < 1e-6, `corner ${i}`);
  });
  // warping a frame's left half (red) and right half (blue): the level result keeps the halves in place
  const frame = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3) };
  for (let y = 0; y < 100; y++) for (let x = 0; x < 200; x++) frame.data[(y * 200 + x) * 3 + (x < 100 ? 0 : 2)] = 255;
  const level = warpQuad(frame, [[20, 20], [180, 20], [180, 80], [20, 80]], 32, 12);
  t.equal(level.data[(6 * 32 + 2) * 3], 255, 'left is red');
  t.equal(level.data[(6 * 32 + 29) * 3 + 2], 255, 'right is blue');
});

t.test('a hole in the character spacing is a lost character, not a shorter plate', async (t) => {
  // 粤BD1X345 (green) with the "X" lost: 粤BD1345 would fit the ordinary format, but the symbols leave a
  // two-character gap where it was
  const { probs, steps } = ctc('粤BD1X345');
  const row = (4 * 4 + 2) * classes; // the "X" becomes blank
  probs.fill(0, row, row + classes);
  probs[row] = 1;
  t.equal(grammar.decode(probs, steps, classes), null, 'no 7-character plate from 8 characters with one lost');
  t.equal(decode('粤B12345')?.plate, '粤B12345', 'evenly spaced 7 characters still read');
});

t.test('the province carries its probability among the provinces', async (t) => {
  // 宁 at 0.4, the look-alike 宇 (no province) at 0.3, 皖 at 0.1: among the provinces 宁 holds 0.8
  const { probs, steps } = ctc('宁C52899', 0.97, { 0: ['宇', 0.3] });
  const row = 2 * classes;
  probs[row + keys.indexOf('宁') + 1] = 0.4;
  probs[row + keys.indexOf('皖') + 1] = 0.1;
  probs[row] = 0.2;
  const d = grammar.decode(probs, steps, classes, 'yellow');
  t.equal(d?.plate, '宁C52899');
  t.ok(Math.abs((d?.chars[0]?.p ?? 0) - 0.4) < 1e-6, `the recogniser's own probability: ${d?.chars[0]?.p}`);
  t.ok(Math.abs((d?.chars[0]?.inSet ?? 0) - 0.8) < 1e-6, `among the provinces: ${d?.chars[0]?.inSet}`);
  t.equal(d?.chars[1]?.inSet, undefined, 'only the province has it');
});

t.test('a police plate\'s six characters before its red 警', async (t) => {
  const { probs, steps } = ctc('京A5234号');
  const stem = grammar.decodePoliceStem(probs, steps, classes, 4 * 6);
  t.match(stem, { plate: '京A5234', format: 'police' }, 'what was read where the 警 is (号) is left out');
  t.same(stem?.steps, [2, 6, 10, 14, 18, 22], 'with the step of each character');
  t.equal(grammar.decodePoliceStem(probs, steps, classes, 4 * 5), null, 'one character short: no plate');
});
