import t from 'tap';
import { FakeClock } from '@safe-community/testkit';
import { PassThrough } from 'node:stream';
import { FrameSource, type FfmpegHandlers, type FfmpegSpawner, type FrameSourceOptions, type SourceStatus } from '@safe-community/analytics/video';

/**
 * The restart budget and watchdog arithmetic on the fake clock, with a scripted decoder in place of
 * ffmpeg (the real decoder is exercised in frames-source.test.ts; here only the time logic is under test).
 */
interface Run { handlers: FfmpegHandlers; stdout: PassThrough; killed: boolean }

const base = { camera: 'c', input: 'rtsp://cam/1', fps: 5, scale: 'stretch' as const, width: 16, height: 16 };
const frameBytes = 16 * 16 * 3;

/** A started FrameSource on a fake clock whose decoder runs are scripted; each status it reports is kept. */
async function scriptedSource(opts: Partial<FrameSourceOptions>) {
  const clock = new FakeClock(0);
  const runs: Run[] = [];
  const spawn: FfmpegSpawner = (_args, handlers) => {
    const run: Run = { handlers, stdout: new PassThrough(), killed: false };
    runs.push(run);
    // Like a real process, a killed decoder reports its exit a moment later.
    return { stdout: run.stdout, kill: () => { run.killed = true; setImmediate(() => handlers.onExit(new Error('killed'))); } };
  };
  const statuses: SourceStatus[] = [];
  const src = new FrameSource({ ...base, clock, spawn, onStatus: (s) => statuses.push(s), ...opts });
  await src.start();
  return { clock, runs, statuses, src };
}

t.test('restarts back off exponentially inside the budget, then the camera is offline until offlineRetryMs', async (t) => {
  const { clock, runs, statuses, src } = await scriptedSource({
    restart: { maxRestarts: 3, windowMs: 60_000, backoff: { initialMs: 1000, maxMs: 8000, jitter: 0, factor: 2 }, offlineRetryMs: 30_000 },
  });
  const fail = () => runs[runs.length - 1]?.handlers.onExit(new Error('connection refused'));
  fail();
  clock.advance(999);
  t.equal(runs.length, 1, 'no restart before the first backoff delay');
  clock.advance(1);
  t.equal(runs.length, 2, 'restart after 1 s');
  fail();
  clock.advance(2000);
  t.equal(runs.length, 3, 'then after 2 s');
  fail();
  clock.advance(4000);
  t.equal(runs.length, 4, 'then after 4 s');
  fail();
  t.equal(statuses[statuses.length - 1]?.state, 'offline', 'the fourth failure inside 60 s spends the budget');
  clock.advance(29_999);
  t.equal(runs.length, 4);
  clock.advance(1);
  t.equal(runs.length, 5, 'tries again after offlineRetryMs');
  // A run that streams resets the backoff: the next failure waits the initial delay again.
  runs[4]?.stdout.write(Buffer.alloc(frameBytes));
  t.equal(src.stats().state, 'streaming');
  t.equal(src.stats().frames, 1);
  fail();
  clock.advance(1000);
  t.equal(runs.length, 6);
  await src.stop();
});

t.test('failures spread wider than the window never exhaust the budget', async (t) => {
  const { clock, runs, statuses, src } = await scriptedSource({ restart: { maxRestarts: 2, windowMs: 10_000, backoff: { initialMs: 100, maxMs: 100 } } });
  for (let i = 0; i < 6; i++) {
    runs[runs.length - 1]?.handlers.onExit(new Error('dropped'));
    clock.advance(6_000);
  }
  t.equal(runs.length, 7, 'every failure was restarted');
  t.notOk(statuses.some((s) => s.state === 'offline'));
  await src.stop();
});

t.test('the watchdog kills a decoder that goes quiet, but not one the consumer is holding back', async (t) => {
  const { clock, runs, statuses, src } = await scriptedSource({
    input: '/v.avi', preset: 'file', delivery: 'block', staleMs: 2000, firstFrameMs: 10_000, restart: { backoff: { initialMs: 50, maxMs: 50 } },
  });
  clock.advance(9_999);
  t.equal(runs[0]?.killed, false, 'the first frame gets firstFrameMs');
  runs[0]?.stdout.write(Buffer.alloc(frameBytes * 2)); // two unread frames: block mode pauses the decoder
  clock.advance(60_000);
  t.equal(runs[0]?.killed, false, 'a paused decoder is not stale');
  t.ok(await src.next());
  t.ok(await src.next());
  clock.advance(2_000);
  t.equal(runs[0]?.killed, true, 'quiet for staleMs after resuming: killed');
  t.equal(statuses.find((s) => s.code === 'ERR_STREAM_STALLED')?.state, 'restarting');
  clock.advance(50);
  t.equal(runs.length, 2, 'and restarted');
  await src.stop();
});
