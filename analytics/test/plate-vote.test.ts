import t from 'tap';
import { PLATE_GATE, PlateVote, type PlateRead } from '@safe-community/analytics';

/** A read of `plate` with per-character probabilities (default 0.95). */
function read(plate: string, ps: Record<number, number> = {}): PlateRead {
  const chars = [...plate].map((char, i) => ({ char, p: ps[i] ?? 0.95 }));
  const p = chars.map((c) => c.p);
  return {
    text: plate, plate, confidence: p.reduce((a, b) => a + b, 0) / p.length, minConfidence: Math.min(...p), provinceConfidence: p[0]!,
    valid: true, format: chars.length === 8 ? 'nev-small' : 'ordinary', colour: null, chars, box: [0, 0, 1, 1], quad: [[0, 0], [1, 0], [1, 1], [0, 1]],
  };
}

t.test('one vehicle: reported once, when two frames agree, with the agreeing count', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: { minChar: 0.8, minProvince: 0.9, province: {} } });
  t.equal(vote.add(read('琼BF78979'), 0), null, 'one frame is not enough');
  t.equal(vote.add(read('豫BF78979', { 0: 0.6 }), 200), null, 'a province misread does not agree');
  const voted = vote.add(read('琼BF78979'), 400);
  t.match(voted, { plate: '琼BF78979', frames: 2, reads: 3 });
  t.equal(voted?.chars[0]?.char, '琼', 'the weighted vote keeps the province two frames read');
  t.equal(vote.add(read('琼BF78979'), 600), null, 'the same vehicle is not reported again');
});

t.test('a vote that does not pass the gate is not reported', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: { minChar: 0.8, minProvince: 0.9, province: {} } });
  vote.add(read('新SC1336', { 0: 0.7 }), 0);
  t.equal(vote.add(read('新SC1336', { 0: 0.75 }), 200), null, 'the province never reached 0.9');
  vote.add(read('浙SC1336', { 0: 0.8 }), 400);
  t.equal(vote.add(read('浙SC1336', { 0: 0.85 }), 600), null, 'split province votes: no share of 0.6');
});

t.test('a gap or a different plate starts a new vehicle', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: { minChar: 0.8, minProvince: 0.9, province: {} }, gapMs: 3000 });
  vote.add(read('京A12345'), 0);
  t.match(vote.add(read('京A12345'), 500), { plate: '京A12345' });
  t.equal(vote.add(read('沪B9X77Q'), 1000), null, 'the next car, first frame');
  t.match(vote.add(read('沪B9X77Q'), 1500), { plate: '沪B9X77Q', frames: 2 });
  vote.add(read('沪B9X77Q'), 6000);
  t.match(vote.add(read('沪B9X77Q'), 6500), { plate: '沪B9X77Q' }, 'after the gap the same car is a new visit (repeat suppression is the caller\'s)');
});

t.test('one confident frame does not carry weak ones', async (t) => {
  const vote = new PlateVote({ minAgree: 2, gate: { minChar: 0.8, minProvince: 0.9, province: {} } });
  t.equal(vote.add(read('皖Y0E25C', { 0: 0.99 }), 0), null);
  t.equal(vote.add(read('皖Y0E25C', { 0: 0.6 }), 200), null, 'the second frame agrees but is below the gate');
  t.equal(vote.add(read('皖Y0E25C', { 0: 0.7 }), 400), null);
  t.match(vote.add(read('皖Y0E25C', { 0: 0.95 }), 600), { plate: '皖Y0E25C', frames: 2, reads: 4 }, 'two frames that pass it do');
  // with the product's gate, 皖 needs 0.999: the recogniser's guess for provinces it cannot make out
  const strict = new PlateVote({ minAgree: 2, gate: PLATE_GATE });
  strict.add(read('皖Y0E25C', { 0: 0.99 }), 0);
  t.equal(strict.add(read('皖Y0E25C', { 0: 0.99 }), 200), null, '皖 at 0.99 twice is not reported');
  strict.add(read('皖Y0E25C', { 0: 0.9995 }), 400);
  t.match(strict.add(read('皖Y0E25C', { 0: 0.9999 }), 600), { plate: '皖Y0E25C', frames: 2 }, 'at 0.999 and above it is');
});
