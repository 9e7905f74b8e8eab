/**
 * Plates benchmark (issue #20): rendered Chinese plates in camera frames, read through the product's path
 * — a full-resolution frame → PlateWatch (PP-OCRv4 text detection, straightening of the text quadrilateral,
 * recognition, plate grammar with the colour's formats, per-character gate, vote across the vehicle's
 * frames) → the one report per vehicle that would reach the barrier.
 *
 * The set is generated from a seed (bench/lib/plate-render.ts): four colours in turn (blue, yellow, green
 * new-energy with 8 characters, white police with 警), four CJK fonts, plate 100–300 px wide in 1280×720
 * frames (a fifth in 1920×1080), roll and yaw ±25°, blur on 30 %, night on 20 %, JPEG quality 40–90, and
 * `frames` frames per vehicle, each moved and scaled a little. JPEG decoding is not timed (ffmpeg does it
 * in the product).
 *
 * Figures: `exact` = vehicles whose report is exactly the plate; `wrong` = reports that are not the plate,
 * over all reports; `median_ms` = reading time per vehicle (all its frames). `calibrate` prints, on a
 * different seed, single-frame reads accepted and wrong for a grid of gate thresholds (how PLATE_GATE's
 * single-frame thresholds were chosen, seeds 7 and 8); the vote's thresholds and the strict characters were
 * chosen on seeds 20–27, so a figure for the goal comes from a seed outside those (BENCHMARKS.md).
 *
 * Run: `npm run bench -- plates [vehicles=120] [frames=3] [seed=20]` or `npm run bench -- plates calibrate [vehicles=120] [seed=7]`
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createPlateReader, evidence, PLATE_GATE, passesGate, toRgb, type PlateRead } from '@safe-community/analytics';
import { PlateWatch } from '@safe-community/edge-agent';
import { MODELS_DIR } from '@safe-community/testkit';
import { randomSpec, renderFrame, rng, type Colour, type PlateSpec } from './lib/plate-render.js';
import { percentile, round, table } from './lib/stats.js';

const calibrate = process.argv[2] === 'calibrate';
const args = process.argv.slice(calibrate ? 3 : 2);
const VEHICLES = Number(args[0] ?? 120);
const FRAMES = calibrate ? 1 : Number(args[1] ?? 3);
const SEED = Number(args[calibrate ? 1 : 2] ?? (calibrate ? 7 : 20));
const GOAL = { exact: 0.9, wrong: 0.01 };
const COLOURS: Colour[] = ['blue', 'yellow', 'green', 'white'];

/** The text line's height in source pixels (left edge of its quadrilateral). */
const textHeight = (r: PlateRead) => Math.hypot(r.quad[3][0] - r.quad[0][0], r.quad[3][1] - r.quad[0][1]);

const reader = createPlateReader({ modelsDir: MODELS_DIR });
await reader.start();
const load = loadavg()[0]!;

interface Outcome {
  spec: PlateSpec;
  reported: string | null;
  frames: number;
  ms: number;
  reads: Array<PlateRead | undefined>;
}

const outcomes: Outcome[] = [];
for (let v = 0; v < VEHICLES; v++) {
  // one generator per vehicle: each vehicle is the same whatever the set's size
  const r = rng(SEED * 1_000_003 + v * 7919);
  const spec = randomSpec(r, COLOURS[v % COLOURS.length]!);
  const jpegs: Buffer[] = [];
  for (let f = 0; f < FRAMES; f++) jpegs.push(await renderFrame(spec, r, f === 0 ? 0 : 1));
  const frames = await Promise.all(jpegs.map((j) => toRgb(j)));
  if (calibrate) {
    const reads = await reader.readPlates(frames[0]!);
    outcomes.push({ spec, reported: null, frames: 0, ms: 0, reads: [reads[0]] });
    continue;
  }
  let clock = 0;
  const watch = new PlateWatch(reader, { camera: 'bench', barrier: 'BR', minConfidence: 0.9, everyMs: 0, repeatMs: 0, now: () => clock });
  let reported: string | null = null;
  let agreeing = 0;
  let ms = 0;
  for (const frame of frames) {
    clock += 200;
    const t0 = performance.now();
    const s = await watch.offer(frame);
    ms += performance.now() - t0;
    if (s && reported === null) { reported = s.payload.plate; agreeing = s.payload.frames; }
  }
  outcomes.push({ spec, reported, frames: agreeing, ms, reads: [] });
}
await reader.stop();

if (calibrate) {
  const reads = outcomes.map((o) => ({ read: o.reads[0], truth: o.spec.plate }));
  const rows: Array<Array<string | number>> = [];
  for (const minChar of [0.5, 0.6, 0.7, 0.8, 0.85, 0.9]) {
    for (const minProvince of [0.5, 0.7, 0.8, 0.9, 0.95]) {
      const gate = { ...PLATE_GATE, minChar, minProvince };
      const accepted = reads.filter(({ read }) => read && passesGate(read, gate));
      const wrong = accepted.filter(({ read, truth }) => read!.plate !== truth).length;
      rows.push([minChar, minProvince, `${accepted.length}/${reads.length}`, `${wrong}/${accepted.length}`]);
    }
  }
  for (const { read, truth } of reads) {
    if (read && read.plate !== truth) console.log(`wrong: ${truth} read as ${read.plate}, weakest ${read.minConfidence}, province ${read.provinceConfidence} (${round(evidence(PLATE_GATE, read.chars[0]!, 0), 3)} as evidence), text ${textHeight(read).toFixed(1)} px high`);
  }
  if (process.env.PLATES_DUMP) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.PLATES_DUMP, JSON.stringify(reads.map(({ read, truth }) => read && ({ truth, plate: read.plate, chars: read.chars, h: textHeight(read) }))));
  }
  const gated = reads.filter(({ read }) => read && passesGate(read));
  rows.push(['PLATE_GATE', JSON.stringify(PLATE_GATE.strict), `${gated.length}/${reads.length}`, `${gated.filter(({ read, truth }) => read!.plate !== truth).length}/${gated.length}`]);
  const anyRead = reads.filter((x) => x.read).length;
  const right = reads.filter((x) => x.read?.plate === x.truth).length;
  console.log(`plates calibration: ${VEHICLES} single frames, seed ${SEED}, load ${load.toFixed(1)}; a plate decoded on ${anyRead}, exactly right ${right}`);
  console.log(table(['min char p', 'min province p', 'accepted', 'wrong of accepted'], rows));
  console.log(JSON.stringify({ bench: 'plates-calibrate', frames: VEHICLES, seed: SEED, decoded: anyRead, right, gate: PLATE_GATE }));
} else {
  const reports = outcomes.filter((o) => o.reported !== null);
  const exact = outcomes.filter((o) => o.reported === o.spec.plate).length;
  const wrong = reports.filter((o) => o.reported !== o.spec.plate);
  const by = (name: string, key: (o: Outcome) => string) => {
    const groups = new Map<string, Outcome[]>();
    for (const o of outcomes) groups.set(key(o), [...(groups.get(key(o)) ?? []), o]);
    return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, os]) => [
      `${name} ${k}`, os.length, os.filter((o) => o.reported === o.spec.plate).length, os.filter((o) => o.reported !== null && o.reported !== o.spec.plate).length,
      os.filter((o) => o.reported === null).length,
    ]);
  };
  const band = (v: number, edges: number[]) => { const i = edges.findIndex((e) => v < e); return i < 0 ? `≥${edges[edges.length - 1]}` : `<${edges[i]}`; };
  console.log(`plates: ${VEHICLES} vehicles × ${FRAMES} frames, seed ${SEED}, gate ${JSON.stringify(PLATE_GATE)}, load ${load.toFixed(1)}`);
  console.log(table(['group', 'vehicles', 'exact', 'wrong', 'none'], [
    ['all', outcomes.length, exact, wrong.length, outcomes.length - reports.length],
    ...by('colour', (o) => o.spec.colour),
    ...by('width', (o) => band(o.spec.width, [140, 200, 300])),
    ...by('|roll|', (o) => band(Math.abs(o.spec.rollDeg), [10, 20])),
    ...by('|yaw|', (o) => band(Math.abs(o.spec.yawDeg), [10, 20])),
    ...by('frame', (o) => `${o.spec.frame.width}x${o.spec.frame.height}`),
    ...by('font', (o) => o.spec.font),
    ...by('night', (o) => String(o.spec.night)),
    ...by('blur', (o) => String(o.spec.blur > 0)),
  ]));
  for (const o of wrong) console.log(`wrong: ${o.spec.plate} reported as ${o.reported} (${o.spec.colour}, ${o.spec.width} px, roll ${o.spec.rollDeg.toFixed(0)}°, yaw ${o.spec.yawDeg.toFixed(0)}°)`);
  const figures = {
    bench: 'plates', vehicles: VEHICLES, frames: FRAMES, seed: SEED,
    exact: round(exact / outcomes.length, 3),
    wrong: round(reports.length ? wrong.length / reports.length : 0, 4),
    reported: reports.length,
    median_ms: round(percentile(outcomes.map((o) => o.ms), 50), 1),
    p90_ms: round(percentile(outcomes.map((o) => o.ms), 90), 1),
    load: round(load, 1),
  };
  const pass = figures.exact >= GOAL.exact && figures.wrong <= GOAL.wrong;
  console.log(`goal exact ≥ ${GOAL.exact}, wrong ≤ ${GOAL.wrong}: ${pass ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify({ ...figures, goal: GOAL, pass }));
}
