import t from 'tap';
import type { RawFrame } from '@safe-community/analytics';
import { redSuffix } from '../src/plates/suffix.js';

type Rgb = [number, number, number];
const WHITE: Rgb = [235, 235, 230];
const BLACK: Rgb = [20, 20, 20];
const RED: Rgb = [190, 20, 25];
const BLUE: Rgb = [20, 70, 160];

/** A 48-high line image: `ground`, dark glyphs every 24 px up to `glyphsTo`, and filled boxes [x0, x1, colour]. */
function line(width: number, ground: Rgb, glyphsTo: number, boxes: Array<[number, number, Rgb]> = []): RawFrame {
  const data = new Uint8Array(width * 48 * 3);
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < width; x++) {
      let c = ground;
      if (x < glyphsTo && x % 24 >= 8 && x % 24 < 14 && y >= 10 && y < 38) c = BLACK;
      for (const [x0, x1, colour] of boxes) if (x >= x0 && x < x1 && y >= 10 && y < 38 && (x + y) % 3 !== 0) c = colour;
      data.set(c, (y * width + x) * 3);
    }
  }
  return { width, height: 48, data };
}

t.test('a red glyph at the end of a white line is the suffix', async (t) => {
  t.same(redSuffix(line(220, WHITE, 170, [[178, 194, RED]])), { start: 178, end: 193 });
});

t.test('what is not a police suffix', async (t) => {
  t.equal(redSuffix(line(220, WHITE, 200)), null, 'no red');
  t.equal(redSuffix(line(220, WHITE, 170, [[200, 220, RED]])), null, 'red reaching the end: a red car past the plate');
  t.equal(redSuffix(line(220, BLUE, 170, [[178, 194, RED]])), null, 'a blue plate');
  t.equal(redSuffix(line(220, WHITE, 170, [[30, 60, RED], [178, 194, RED]])), null, 'red elsewhere on the line');
  t.equal(redSuffix(line(220, WHITE, 100, [[100, 120, RED]])), null, 'red in the middle of the line');
  t.equal(redSuffix(line(220, WHITE, 170, [[180, 183, RED]])), null, 'a speck of red');
  t.equal(redSuffix(line(220, WHITE, 150, [[160, 215, RED]])), null, 'red wider than a character');
});

t.test('a red car past the plate does not hide the suffix before it', async (t) => {
  t.same(redSuffix(line(220, WHITE, 170, [[178, 194, RED], [205, 220, RED]])), { start: 178, end: 193 });
});
