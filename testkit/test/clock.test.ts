import t from 'tap';
import { FakeClock } from '../src/index.js';

t.test('timers fire in time order at their due time, only when the clock is moved', async (t) => {
  const clock = new FakeClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 50);
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
  const dropped = clock.setTimeout(() => fired.push('never'), 20);
  clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
  clock.clearTimeout(dropped);
  t.equal(clock.pending, 3);
  await clock.advanceTo(1040);
  t.same(fired, ['a@1010']);
  t.equal(clock.now(), 1040);
  let settled = 0;
  await clock.advanceTo(2000, async () => {
    settled++;
  });
  t.same(fired, ['a@1010', 'b@1050', 'c@1050'], 'same due time keeps the order set');
  t.equal(settled, 3, 'settle runs once before the first timer and after each');
  clock.setTimeout(() => clock.setTimeout(() => fired.push(`chained@${clock.now()}`), 5), 5);
  await clock.advanceTo(3000);
  t.equal(fired.at(-1), 'chained@2010', 'a timer set by a timer fires in the same move');
  t.equal(clock.pending, 0);
});

t.test('advance() is the same walk without awaiting; skip() moves time and fires nothing', async (t) => {
  const clock = new FakeClock(0);
  const fired: number[] = [];
  clock.setTimeout(() => fired.push(clock.now()), 100);
  clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 100), 150);
  clock.skip(500);
  t.same(fired, [], 'skip fired nothing');
  t.equal(clock.now(), 500);
  t.equal(clock.pending, 2);
  clock.advance(0);
  t.same(fired, [500], 'overdue timers fire on the next advance, at the time it stands at');
  t.equal(clock.pending, 1);
  clock.advance(99);
  t.same(fired, [500]);
  clock.advance(1);
  t.same(fired, [500, 600]);
  t.equal(clock.iso(), new Date(600).toISOString());
});

t.test('advanceAsync lets promise chains a timer started finish before the next timer', async (t) => {
  const clock = new FakeClock(0);
  const order: string[] = [];
  clock.setTimeout(() => void Promise.resolve().then(() => order.push('first settled')), 10);
  clock.setTimeout(() => order.push('second fired'), 20);
  await clock.advanceAsync(30);
  t.same(order, ['first settled', 'second fired']);
  t.equal(clock.now(), 30);
});
