/**
 * Rendered plates through the product's path (full-resolution frame → PlateWatch: detection, straightening,
 * plate grammar, gate, vote), one vehicle per colour, at sizes and angles where the `plates` benchmark reads
 * nearly every plate. The benchmark measures the whole range; this test holds the path together.
 */
import t from 'tap';
import { createPlateReader, toRgb, type PlateReader } from '@safe-community/analytics';
import { PlateWatch } from '@safe-community/edge-agent';
import { MODELS_DIR } from '@safe-community/testkit';
import { randomSpec, renderFrame, rng, type PlateSpec } from '../lib/plate-render.js';

let reader: PlateReader;
t.before(async () => {
  reader = createPlateReader({ modelsDir: MODELS_DIR });
  await reader.start();
});
t.teardown(() => reader.stop());

const base: Omit<PlateSpec, 'plate' | 'colour'> = {
  font: 'WenQuanYi Zen Hei', width: 230, rollDeg: 0, yawDeg: 0, blur: 0, night: false, jpeg: 75, frame: { width: 1280, height: 720 },
};

/** Frames of one vehicle through a fresh PlateWatch; the report, if any. */
async function vehicle(spec: PlateSpec, seed: number | (() => number), frames = 3) {
  const r = typeof seed === 'number' ? rng(seed) : seed;
  let clock = 0;
  const watch = new PlateWatch(reader, { camera: 'lane', barrier: 'BR1', minConfidence: 0.9, everyMs: 0, repeatMs: 60_000, now: () => clock });
  const reports = [];
  for (let f = 0; f < frames; f++) {
    clock += 200;
    const s = await watch.offer(await toRgb(await renderFrame(spec, r, f === 0 ? 0 : 1)));
    if (s) reports.push(s);
  }
  return reports;
}

t.test('one vehicle of each colour is reported once, exactly, with the agreeing frames', async (t) => {
  const cases: Array<Pick<PlateSpec, 'plate' | 'colour'> & Partial<PlateSpec>> = [
    { plate: '苏E7C251', colour: 'blue' },
    { plate: '鲁B80362', colour: 'yellow', font: 'AR PL UMing CN' },
    { plate: '粤BD12345', colour: 'green', font: 'WenQuanYi Micro Hei' },
  ];
  for (const [i, c] of cases.entries()) {
    const reports = await vehicle({ ...base, ...c }, 100 + i);
    t.equal(reports.length, 1, `${c.colour}: one report for the vehicle`);
    t.equal(reports[0]?.payload.plate, c.plate, `${c.colour}: ${c.plate}`);
    t.ok((reports[0]?.payload.frames ?? 0) >= 2, `${c.colour}: ${reports[0]?.payload.frames} frames agree`);
  }
});

// On a small white police plate the recogniser drops the red 警 or reads another character there; its
// colour still shows, and the plate is read up to it (analytics suffix.ts).
t.test('a small white police plate is read up to its red 警', async (t) => {
  // vehicles of the benchmark's seed 22 whose 警 the recogniser alone never read
  for (const v of [79, 87, 95]) {
    const r = rng(22 * 1_000_003 + v * 7919);
    const spec = randomSpec(r, 'white');
    const reports = await vehicle(spec, r, 5);
    t.equal(reports[0]?.payload.plate, spec.plate, `${spec.plate}: ${spec.width} px, roll ${spec.rollDeg.toFixed(0)}°, yaw ${spec.yawDeg.toFixed(0)}°, ${spec.night ? 'night' : 'day'}`);
  }
});

t.test('rolled and yawed plates are straightened before they are read', async (t) => {
  for (const [i, [roll, yaw]] of ([[22, 0], [-20, 18], [12, -24]] as const).entries()) {
    const reports = await vehicle({ ...base, plate: '浙A3K629', colour: 'blue', rollDeg: roll, yawDeg: yaw }, 200 + i);
    t.equal(reports[0]?.payload.plate, '浙A3K629', `roll ${roll}°, yaw ${yaw}°`);
  }
});

t.test('a small plate reads from the full-resolution frame', async (t) => {
  const reports = await vehicle({ ...base, plate: '川A5M881', colour: 'blue', width: 140 }, 300);
  t.equal(reports[0]?.payload.plate, '川A5M881', '140 px wide in 1280×720');
});
