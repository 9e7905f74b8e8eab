import t from 'tap';
import { PLATE_GATE, PlateVote, passesGate, type PlateGate, type PlateRead } from '@safe-community/analytics';

/** A read of `plate` with per-character probabilities (default 0.95). */
function read(plate: string, ps: Record<number, number> = {}): PlateRead {
  const chars = [...plate].map((char, i) => ({ char, p: ps[i] ?? 0.95 }));
  const p = chars.map((c) => c.p);
  return {
    text: plate, plate, confidence: p.reduce((a, b) => a + b, 0) / p.length, minConfidence: Math.min(...p), provinceConfidence: p[0]!,
    valid: true, format: chars.length === 8 ? 'nev-small' : 'ordinary', colour: null, chars, box: [0, 0, 1, 1], quad: [[0, 0], [1, 0], [1, 1], [0, 1]],
  };
}

/** The product's thresholds without the strict characters. */
const GATE: PlateGate = { ...PLATE_GATE, strict: {} };

t.test('one vehicle: reported once, when two frames agree, with the agreeing count', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE });
  t.equal(vote.add(read('琼BF78979'), 0), null, 'one frame is not enough');
  t.equal(vote.add(read('豫BF78979', { 0: 0.3 }), 200), null, 'a province misread does not agree');
  const voted = vote.add(read('琼BF78979'), 400);
  t.match(voted, { plate: '琼BF78979', frames: 2, reads: 3 });
  t.match(voted?.chars[0], { char: '琼', p: 0.95, support: 1.9, share: 0.864 }, 'the province two frames read, with its summed probability and share');
  t.equal(vote.add(read('琼BF78979'), 600), null, 'the same vehicle is not reported again');
});

t.test('a character weak in every frame but one adds up across frames', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE });
  t.equal(vote.add(read('宁BF52809', { 0: 0.46 }), 0), null);
  t.equal(vote.add(read('宁BF52809', { 0: 0.68 }), 200), null, 'the province was never read clearly (minClear 0.8)');
  t.equal(passesGate(read('宁BF52809', { 0: 0.85 })), false, 'the third frame fails the single-frame gate on its own');
  t.match(vote.add(read('宁BF52809', { 0: 0.85 }), 400), { plate: '宁BF52809', frames: 3 }, '0.46 + 0.68 + 0.85 reaches the province support of 1.6');

  const short = new PlateVote({ minAgree: 2, gate: GATE });
  short.add(read('宁BF52809', { 0: 0.85 }), 0);
  t.equal(short.add(read('宁BF52809', { 0: 0.7 }), 200), null, '1.55 is short of the province support');
  t.match(short.add(read('宁BF52809', { 0: 0.3 }), 400), { plate: '宁BF52809' }, 'a third weak frame tips it');
});

t.test('a split vote is not reported', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE });
  vote.add(read('新SC1336', { 0: 0.9 }), 0);
  vote.add(read('浙SC1336', { 0: 0.9 }), 200);
  vote.add(read('新SC1336', { 0: 0.9 }), 400);
  t.equal(vote.add(read('浙SC1336', { 0: 0.85 }), 600), null, 'the province has no share of 0.7');
  t.match(vote.tally([read('新SC1336', { 0: 0.9 }), read('新SC1336', { 0: 0.9 }), read('浙SC1336', { 0: 0.9 })]).chars[0], { char: '新', share: 0.667 });
});

t.test('two frames must read the whole voted plate', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE });
  vote.add(read('京A12345'), 0);
  vote.add(read('京A12349', { 6: 0.3 }), 200);
  t.equal(vote.add(read('京A12845', { 5: 0.3 }), 400), null, 'every position has its majority, yet only one frame read 京A12345');
  t.match(vote.add(read('京A12345'), 600), { plate: '京A12345', frames: 2, reads: 4 });
});

t.test('a gap or a different plate starts a new vehicle', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE, gapMs: 3000 });
  vote.add(read('京A12345'), 0);
  t.match(vote.add(read('京A12345'), 500), { plate: '京A12345' });
  t.equal(vote.add(read('沪B9X77Q'), 1000), null, 'the next car, first frame');
  t.match(vote.add(read('沪B9X77Q'), 1500), { plate: '沪B9X77Q', frames: 2 });
  vote.add(read('沪B9X77Q'), 6000);
  t.match(vote.add(read('沪B9X77Q'), 6500), { plate: '沪B9X77Q' }, 'after the gap the same car is a new visit (repeat suppression is the caller\'s)');
});

t.test('strict characters need their own threshold in as many frames as must agree', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  for (let i = 0; i < 4; i++) t.equal(vote.add(read('皖Y0E25C', { 0: 0.99 }), i * 200), null, `皖 at 0.99, frame ${i + 1}`);
  const sure = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  sure.add(read('皖Y0E25C', { 0: 0.9995 }), 0);
  t.match(sure.add(read('皖Y0E25C', { 0: 0.9999 }), 200), { plate: '皖Y0E25C', frames: 2 }, 'at 0.999 and above it is reported');

  // J in a narrow font reads as 1 with confidence, in every frame
  const j = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  for (let i = 0; i < 5; i++) t.equal(j.add(read('鲁D06167', { 4: 0.98 }), i * 200), null, `a 1 at 0.98, frame ${i + 1}`);
  const one = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  one.add(read('鲁D06167', { 4: 0.995 }), 0);
  t.match(one.add(read('鲁D06167', { 4: 0.992 }), 200), { plate: '鲁D06167' }, 'a 1 read at 0.99 or more twice is');
});

t.test('the single-frame gate', async (t) => {
  t.ok(passesGate(read('京A23456')), 'every character at 0.95');
  t.notOk(passesGate(read('京A23456', { 0: 0.85 })), 'the province needs 0.9');
  t.notOk(passesGate(read('京A23456', { 3: 0.75 })), 'every character needs 0.8');
  t.notOk(passesGate(read('京A19345', { 2: 0.97 })), 'a 1 needs 0.99');
  t.ok(passesGate(read('京A19345', { 2: 0.995 })), 'a 1 at 0.995 passes');
  t.notOk(passesGate(read('皖A23456', { 0: 0.998 })), '皖 needs 0.999');
  t.notOk(passesGate(read('')), 'nothing read is no plate');
});

t.test('the province counts by its probability among the provinces, unless the recogniser guessed it', async (t) => {
  /** A read whose province the recogniser gave `p`, and `inSet` among the provinces. */
  const province = (plate: string, p: number, inSet: number) => {
    const r = read(plate);
    r.chars[0] = { char: r.chars[0]!.char, p, inSet };
    return r;
  };
  t.ok(passesGate(province('宁C52899', 0.42, 0.93)), 'one frame: 宁 at 0.42, 0.93 among the provinces');
  t.notOk(passesGate(province('皖C52899', 0.99, 1)), '皖 is judged on the recogniser\'s own probability');

  const vote = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  vote.add(province('宁C52899', 0.42, 0.58), 0);
  vote.add(province('皖C52899', 0.63, 1), 200);
  vote.add(province('皖C52899', 0.99, 1), 400);
  t.equal(vote.add(province('宁C52899', 0.17, 0.56), 600), null, '宁 has 1.14 of support');
  const voted = vote.add(province('宁C52899', 0.53, 0.81), 800);
  t.match(voted, { plate: '宁C52899', frames: 3, reads: 5 }, 'guessed 皖s take no part: 宁 holds all the weight');
  t.match(voted?.chars[0], { char: '宁', support: 1.95, share: 1 });

  const guesses = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  for (let i = 0; i < 4; i++) t.equal(guesses.add(province('皖C52899', 0.99, 1), i * 200), null, `only guesses, frame ${i + 1}`);
  t.equal(guesses.tally([province('皖C52899', 0.99, 1)]).plate, '皖C52899', 'a guess still names the position');
});

t.test('blurred frames take no part, and the voted plate must reach the mean confidence asked', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: GATE });
  t.equal(vote.add(read('京A23456', { 4: 0.2 }), 0), null);
  t.equal(vote.add(read('京A23456'), 200), null, 'the blurred frame was not counted');
  t.match(vote.add(read('京A23456'), 400), { frames: 2, reads: 2 });

  const demanding = new PlateVote({ minAgree: 2, gate: GATE, minConfidence: 0.96 });
  demanding.add(read('京A23456'), 0);
  t.equal(demanding.add(read('京A23456'), 200), null, 'mean 0.95 is short of 0.96');
  t.match(demanding.add(read('京A23456', Object.fromEntries([...Array(7).keys()].map((i) => [i, 0.99]))), 400), { plate: '京A23456', confidence: 0.99 }, 'a clearer frame reaches it');
});
