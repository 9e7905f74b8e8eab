import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { MEDIA_DIR, MODELS_DIR } from '@safe-community/testkit';
import { createPlateReader, plateColour, toRgb, type Quad } from '@safe-community/analytics';
import { matchRefined, refineWindow, REFINE_WIDTH } from '../src/plates/refine.js';
import type { TextQuad } from '../src/plates/lines.js';

const media = (f: string) => readFile(join(MEDIA_DIR, f));
const level = (x0: number, y0: number, x1: number, y1: number): TextQuad =>
  ({ quad: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], width: x1 - x0, height: y1 - y0, angle: 0 });
const wide = (l: TextQuad) => l.width >= 1.5 * l.height && Math.abs(l.angle) < Math.PI / 4;

/** A plate photo scaled to `width` px, rolled, pasted into a `fw`×`fh` frame on a car body of `body` colour. */
async function scene(file: string, width: number, fw: number, fh: number, body: string, roll = 0): Promise<Buffer> {
  const plate = await sharp(await media(file)).resize({ width }).rotate(roll, { background: body }).png().toBuffer();
  const meta = await sharp(plate).metadata();
  const car = await sharp({ create: { width: width * 3, height: width, channels: 3, background: body } }).png().toBuffer();
  return sharp({ create: { width: fw, height: fh, channels: 3, background: '#6a6f78' } })
    .composite([
      { input: car, left: Math.round(fw / 2 - width * 1.5), top: Math.round(fh / 2 - width / 2) },
      { input: plate, left: Math.round(fw / 2 - meta.width! / 2), top: Math.round(fh / 2 - meta.height! / 2) },
    ])
    .jpeg({ quality: 80 }).toBuffer();
}

t.test('the refining window: the line scaled to the detector’s plate size, inside the frame', async (t) => {
  const small = refineWindow(level(900, 500, 960, 515), 1920, 1080);
  t.ok(small.width >= 60 * 1.5 && small.height >= 15 * 3, 'room around the line for the ends and roll');
  t.equal(Math.round(small.scale * 60), REFINE_WIDTH, 'a 60 px line is detected at REFINE_WIDTH');
  const edge = refineWindow(level(0, 0, 200, 40), 1280, 720);
  t.same([edge.left, edge.top], [0, 0], 'clipped to the frame');
  t.ok(edge.left + edge.width <= 1280 && edge.top + edge.height <= 720);
});

t.test('a refined line that came apart is lengthened over its pieces, on the longest piece’s axis', async (t) => {
  const coarse = level(100, 100, 400, 160);
  // the province split into two small upright regions left of the rest, as 鲁 does at the window's scale
  const rest = level(150, 105, 390, 155);
  const top = { ...level(108, 105, 140, 128), width: 23, height: 32, angle: Math.PI / 2 };
  const bottom = level(108, 131, 140, 155);
  const far = level(100, 300, 400, 340);
  const merged = matchRefined(coarse, [rest, top, bottom, far], wide);
  t.ok(merged, 'a line matches');
  t.equal(Math.round(merged!.quad[0][0]), 108, 'starts at the province');
  t.equal(Math.round(merged!.quad[1][0]), 390, 'ends where the text does');
  t.equal(merged!.height, 50, 'height from the longest piece');
  t.equal(matchRefined(coarse, [far], wide), null, 'a line elsewhere in the window is not this one');
  t.equal(matchRefined(coarse, [top, bottom], wide), null, 'pieces without a line are not a line');
});

t.test('a small plate in a 1920×1080 frame reads exactly (two-stage detection)', async (t) => {
  const reader = createPlateReader({ modelsDir: MODELS_DIR });
  await reader.start();
  t.teardown(() => reader.stop());
  for (const [file, plate, roll] of [['plate_jing_A12345_blue.jpg', '京A12345', 0], ['plate_yue_green.jpg', '粤BD12345', -12]] as const) {
    const read = await reader.read(await scene(file, 150, 1920, 1080, '#5a5a5a', roll));
    t.equal(read?.plate, plate, `${file} at 150 px, rolled ${roll}°`);
  }
});

t.test('a white plate on a green car is white, a new-energy plate green', async (t) => {
  const reader = createPlateReader({ modelsDir: MODELS_DIR });
  await reader.start();
  t.teardown(() => reader.stop());
  const white = await reader.read(await scene('plate_hu_B9X77Q_white.jpg', 220, 1280, 720, '#2f9e4f', 15));
  t.equal(white?.plate, '沪B9X77Q', 'white plate read');
  t.equal(white?.colour, 'white', 'the green car around it does not make it a new-energy plate');
  const green = await reader.read(await scene('plate_yue_green.jpg', 220, 1280, 720, '#9a9a9a', 15));
  t.equal(green?.colour, 'green', 'the new-energy plate is green');
  t.equal(green?.plate, '粤BD12345');
  // a dark patch without colour says nothing about the plate: every format is tried
  const dark = await toRgb(await sharp({ create: { width: 64, height: 32, channels: 3, background: '#303030' } }).png().toBuffer());
  const q: Quad = [[4, 8], [60, 8], [60, 24], [4, 24]];
  t.equal(plateColour(dark, q), null, 'dark: no colour');
});
