import t from 'tap';
import { RuleEngine, type Point, type RuleHit } from '@safe-community/analytics/video';
import { footAt, track } from './video-helpers.js';

const square: Point[] = [[0.4, 0.4], [0.8, 0.4], [0.8, 0.9], [0.4, 0.9]];

function kinds(hits: RuleHit[]): string[] {
  return hits.map((h) => h.kind);
}

t.test('zone intrusion needs minFrames inside, per-zone classes, and fires once per stay', async (t) => {
  const rules = new RuleEngine({ zones: [{ id: 'yard', polygon: square, minFrames: 3 }] });
  const out: RuleHit[] = [];
  // Feet outside, then inside for 5 frames.
  out.push(...rules.evaluate([track(1, footAt(0.2, 0.6))], 0));
  for (let f = 1; f <= 5; f++) {
    const hits = rules.evaluate([track(1, footAt(0.5, 0.6)), track(2, footAt(0.6, 0.6), 'car')], f * 200);
    if (f < 3) t.same(hits, [], `frame ${f} inside: not yet`);
    out.push(...hits);
  }
  t.same(kinds(out), ['video.zone_intrusion'], 'one intrusion; the car is not a listed class');
  t.match(out[0]?.payload, { zone: 'yard', track: 1, label: 'person', frames: 3 });
  t.equal(out[0]?.severity, 'major');
  // The head inside but the feet outside is not an intrusion (bottom anchor).
  const tall = new RuleEngine({ zones: [{ id: 'z', polygon: square, minFrames: 1 }] });
  t.same(tall.evaluate([track(5, [0.5, 0.5, 0.56, 0.95])], 0), [], 'feet below the zone');
  t.equal(tall.evaluate([track(5, [0.5, 0.5, 0.56, 0.85])], 0).length, 1, 'feet inside');
});

t.test('leaving for longer than the grace time ends the stay; re-entry fires again', async (t) => {
  const rules = new RuleEngine({ zones: [{ id: 'yard', polygon: square, minFrames: 1, exitGraceMs: 1000 }] });
  t.equal(rules.evaluate([track(1, footAt(0.5, 0.6))], 0).length, 1);
  t.equal(rules.evaluate([track(1, footAt(0.2, 0.6))], 600).length, 0, 'stepped out');
  t.equal(rules.evaluate([track(1, footAt(0.5, 0.6))], 900).length, 0, 'back within grace: same stay');
  t.equal(rules.evaluate([], 2500).length, 0, 'gone');
  t.equal(rules.evaluate([track(1, footAt(0.5, 0.6))], 2600).length, 1, 'a new stay after the grace time');
});

t.test('loitering fires after the configured seconds inside, once', async (t) => {
  const rules = new RuleEngine({ zones: [{ id: 'door', polygon: square, loiterSeconds: 10, intrusion: false }] });
  const hits: Array<[number, RuleHit]> = [];
  for (let ms = 0; ms <= 20_000; ms += 200) {
    for (const h of rules.evaluate([track(7, footAt(0.6, 0.7))], ms)) hits.push([ms, h]);
  }
  t.equal(hits.length, 1);
  t.equal(hits[0]?.[0], 10_000, 'at exactly 10 s');
  t.equal(hits[0]?.[1].kind, 'video.loitering');
  t.match(hits[0]?.[1].payload, { zone: 'door', track: 7, seconds: 10, thresholdSeconds: 10 });
  // Someone passing through in 4 s does not loiter.
  const pass = new RuleEngine({ zones: [{ id: 'door', polygon: square, loiterSeconds: 10 }] });
  let loiter = 0;
  for (let ms = 0; ms <= 4000; ms += 200) loiter += pass.evaluate([track(8, footAt(0.45 + ms / 20_000, 0.7))], ms)
    .filter((h) => h.kind === 'video.loitering').length;
  t.equal(loiter, 0);
});

t.test('line crossing counts each direction; jitter on the line and walking around it do not count', async (t) => {
  // A horizontal line across the walkway; a→b points right, so "rightward" (right-hand side) is below it.
  const rules = new RuleEngine({ lines: [{ id: 'walkway', a: [0.1, 0.5], b: [0.9, 0.5], directions: { rightward: 'south', leftward: 'north' } }] });
  const hits: RuleHit[] = [];
  const walk = (id: number, x: number, ys: number[]) => { for (const y of ys) hits.push(...rules.evaluate([track(id, footAt(x, y))], 0)); };
  walk(1, 0.3, [0.3, 0.4, 0.48, 0.52, 0.6, 0.7]); // north → south
  walk(2, 0.6, [0.8, 0.6, 0.45, 0.3]); // south → north
  walk(3, 0.5, [0.3, 0.45, 0.499, 0.502, 0.497, 0.503, 0.45]); // dithers on the line, stays north
  walk(4, 0.95, [0.3, 0.7, 0.8]); // beyond the end of the line
  walk(5, 0.4, [0.7, 0.3, 0.25]); // one big step across still counts once it holds
  t.same(hits.map((h) => [h.payload.track, h.payload.direction]), [[1, 'south'], [2, 'north'], [5, 'north']]);
  t.same(hits[2]?.payload.counts, { south: 1, north: 2 }, 'running counts travel with each event');
  t.same(rules.lineCounts(), { walkway: { south: 1, north: 2 } });
  t.equal(hits[0]?.kind, 'video.line_crossing');
});

t.test('line hysteresis: the band scales with the box, a side holds for minFrames, an occluded frame is no evidence', async (t) => {
  const line = { id: 'l', a: [0.1, 0.5] as Point, b: [0.9, 0.5] as Point, directions: { rightward: 'down', leftward: 'up' } };
  const run = (rules: RuleEngine, steps: Array<[number, number, number?]>) => {
    const out: string[] = [];
    for (const [id, y, h] of steps) for (const hit of rules.evaluate([track(id, footAt(0.5, y, 0.06, h ?? 0.2))], 0)) out.push(`${String(hit.payload.track)}:${String(hit.payload.direction)}`);
    return out;
  };
  // Feet of a 0.2-high person jittering ±0.02 around a line they walk along: the old fixed 0.01 margin counted
  // each swing; 0.15 box heights (0.03) holds them.
  const jitter: Array<[number, number]> = [[1, 0.45], ...[0.52, 0.48, 0.521, 0.479, 0.52, 0.48].map((y): [number, number] => [1, y])];
  t.same(run(new RuleEngine({ lines: [line] }), jitter), [], 'feet walking along the line');
  t.equal(run(new RuleEngine({ lines: [{ ...line, marginHeights: 0, minFrames: 1 }] }), jitter).length, 6, 'without hysteresis every swing counts');
  // A far-away person (box 0.05 high) crossing by 0.02 is a real crossing: the band shrinks with the box.
  t.same(run(new RuleEngine({ lines: [line] }), [[2, 0.46, 0.05], [2, 0.47, 0.05], [2, 0.52, 0.05], [2, 0.53, 0.05]]), ['2:down']);
  // One frame on the far side is not enough; two are.
  t.same(run(new RuleEngine({ lines: [line] }), [[3, 0.4], [3, 0.6], [3, 0.4], [3, 0.4]]), [], 'a one-frame excursion');
  // Legs hidden for one frame: the box loses its lower half, its bottom jumps above the line and back.
  // The short box is no evidence, so there is no false "up" and "down", and the real crossing later counts once.
  const hidden = run(new RuleEngine({ lines: [line] }), [[4, 0.56], [4, 0.57], [4, 0.44, 0.08], [4, 0.57], [4, 0.56], [4, 0.44], [4, 0.42], [4, 0.40]]);
  t.same(hidden, ['4:up'], 'the occluded frame neither crosses nor resets; the real crossing counts once');
  // An occluded frame in the middle of a real crossing does not restart the count of frames beyond the band.
  t.same(run(new RuleEngine({ lines: [{ ...line, minFrames: 3 }] }), [[5, 0.4], [5, 0.6], [5, 0.6, 0.08], [5, 0.6], [5, 0.6]]), ['5:down']);
  // A track seen one frame beyond the band and then lost (walked behind someone) counts after 3 unseen frames.
  const lost = new RuleEngine({ lines: [line] });
  t.same(run(lost, [[6, 0.4], [6, 0.4], [6, 0.6]]), []);
  t.same(lost.evaluate([], 0), []);
  t.same(lost.evaluate([], 0), []);
  t.match(lost.evaluate([], 0), [{ kind: 'video.line_crossing', payload: { track: 6, direction: 'down' } }]);
  // Distances use the picture's proportions: on a 4:3 picture a vertical line's band is wider in normalised x.
  const across = (aspect: number) => {
    const r = new RuleEngine({ lines: [{ id: 'v', a: [0.5, 0.9], b: [0.5, 0.1] }] });
    let n = 0;
    for (const x of [0.47, 0.47, 0.525, 0.525]) n += r.evaluate([track(7, footAt(x, 0.6))], 0, aspect).length;
    return n;
  };
  t.equal(across(1), 0, 'square picture: 0.025 is inside a 0.03 band');
  t.equal(across(4 / 3), 1, '4:3 picture: 0.025 of the width is 0.033 of the height, beyond the band');
});

t.test('crowd fires when the count holds over the threshold, then rests for the cooldown', async (t) => {
  const rules = new RuleEngine({ crowds: [{ id: 'square', threshold: 4, minFrames: 2, cooldownMs: 10_000 }] });
  const people = (n: number) => Array.from({ length: n }, (_, i) => track(i + 1, footAt(0.1 + i * 0.1, 0.8)));
  const fired: number[] = [];
  const counts = [3, 4, 5, 5, 5, 2, 4, 4, 4, 4];
  counts.forEach((n, i) => { for (const h of rules.evaluate(people(n), i * 1000)) fired.push(i), t.match(h.payload, { rule: 'square', threshold: 4 }); });
  t.same(fired, [2], 'once after two frames at ≥ 4; the regrouping at 6–9 s is inside the cooldown');
  const late = rules.evaluate(people(5), 12_000);
  t.equal(late[0]?.kind, 'video.crowd', 'the crowd that regathered during the cooldown is reported when it ends');
  t.equal(late[0]?.payload.count, 5);
  rules.evaluate(people(1), 13_000);
  rules.evaluate(people(6), 14_000);
  t.same(rules.evaluate(people(6), 15_000), [], 'a new crowd inside the cooldown is held back');
  t.same(rules.evaluate(people(6), 21_000), [], 'and not repeated while it persists within the cooldown');
  const again = rules.evaluate(people(6), 22_000);
  t.equal(again[0]?.kind, 'video.crowd', 'fires again once the cooldown has passed');
  t.equal(again[0]?.payload.count, 6);
  t.same(rules.evaluate(people(6), 40_000), [], 'an ongoing reported crowd is not repeated');
  const region = new RuleEngine({ crowds: [{ id: 'gate', threshold: 2, minFrames: 1, region: square }] });
  t.same(region.evaluate(people(3), 0), [], 'people outside the region do not count');
});

t.test('bad rule configuration is refused', async (t) => {
  t.throws(() => new RuleEngine({ zones: [{ id: 'z', polygon: [[0, 0], [1, 1]] }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ zones: [{ id: 'z', polygon: [[0, 0], [2, 0], [0, 1]] }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ lines: [{ id: 'l', a: [0.5, 0.5], b: [0.5, 0.5] }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ lines: [{ id: 'l', a: [0, 0.5], b: [1, 0.5], minFrames: 0 }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ lines: [{ id: 'l', a: [0, 0.5], b: [1, 0.5], marginHeights: -0.1 }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ crowds: [{ id: 'c', threshold: 0 }] }), { code: 'ERR_RULES_CONFIG' });
  t.throws(() => new RuleEngine({ crowds: [{ id: 'c', threshold: 2 }, { id: 'c', threshold: 3 }] }), { code: 'ERR_RULES_CONFIG' });
});
