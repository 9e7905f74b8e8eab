import t from 'tap';
import { MotionGate } from '@safe-community/analytics/video';
import { syntheticFrame } from './video-helpers.js';

t.test('static frames are skipped, a moving object runs the detector', async (t) => {
  const gate = new MotionGate({ maxSkipFrames: 100 });
  t.same(gate.check(syntheticFrame(0, [[10, 10, 30, 50]])).run, true, 'the first frame always runs');
  for (let i = 1; i <= 5; i++) {
    const d = gate.check(syntheticFrame(i, [[10, 10, 30, 50]]));
    t.equal(d.run, false, `static frame ${i} skipped`);
    t.equal(d.changed, 0);
  }
  const moved = gate.check(syntheticFrame(6, [[14, 10, 34, 50]]));
  t.equal(moved.run, true, 'a 4-pixel move is motion');
  t.ok(moved.changed > 0.002);
  t.equal(moved.forced, false);
});

t.test('small noise below the cell threshold is not motion', async (t) => {
  const gate = new MotionGate({ maxSkipFrames: 100 });
  const a = syntheticFrame(0);
  gate.check(a);
  const b = syntheticFrame(1);
  for (let i = 0; i < b.data.length; i += 7) b.data[i] = (b.data[i] as number) + ((i >> 3) % 9) - 4; // ±4 grey levels
  t.equal(gate.check(b).run, false);
});

t.test('a static scene still runs the detector every maxSkipFrames frames', async (t) => {
  const gate = new MotionGate({ maxSkipFrames: 3 });
  const runs: boolean[] = [];
  const forced: boolean[] = [];
  for (let i = 0; i < 9; i++) {
    const d = gate.check(syntheticFrame(i, [[10, 10, 30, 50]]));
    runs.push(d.run);
    forced.push(d.forced);
  }
  t.same(runs, [true, false, false, false, true, false, false, false, true]);
  t.same(forced, [false, false, false, false, true, false, false, false, true]);
});

t.test('letterbox padding is ignored', async (t) => {
  const gate = new MotionGate({ maxSkipFrames: 100 });
  const a = syntheticFrame(0);
  a.content = { width: 160, height: 80, sourceWidth: 320, sourceHeight: 160 };
  gate.check(a);
  // Change only rows below the picture: not motion.
  const b = syntheticFrame(1, [[0, 90, 160, 120]]);
  b.content = a.content;
  t.equal(gate.check(b).run, false);
  t.throws(() => new MotionGate({ gridWidth: 2 }), { code: 'ERR_MOTION_OPTIONS' });
});
