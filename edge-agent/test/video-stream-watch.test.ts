/**
 * CameraStream on a manual clock: an address that is not known yet is retried with capped backoff and never
 * fails; no frame for lostAfterMs → one `lost`; frames again → `restored` with the outage length; a stream
 * that stays lost is closed and its address asked for again (a rebooted camera may hand out a new URI).
 */
import t from 'tap';
import { FakeClock } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { CameraStream } from '../src/video/camera-stream.js';

t.test('address retried, lost once, restored, reopened while lost', async (t) => {
  const clock = new FakeClock(0);
  const log: string[] = [];
  const opened: string[] = [];
  const stopped: string[] = [];
  let addresses = 0;
  const stream = new CameraStream({
    camera: 'cam', clock, log: createLogger({ level: 'silent' }), lostAfterMs: 10_000, retry: { initialMs: 1000, maxMs: 4000 }, reopenAfterMs: 30_000,
    resolveInput: async () => {
      addresses++;
      if (addresses <= 3) throw Object.assign(new Error('camera cam is offline'), { code: 'CAMERA_OFFLINE' });
      return `rtsp://cam/${addresses}`;
    },
    open: (input) => ({ start: async () => { opened.push(input); }, stop: async () => { stopped.push(input); } }),
    onState: (_c, state, why) => log.push(`${state}${why ? ` ${why.code}` : ''}`),
    onLost: (l) => log.push(`LOST ${l.code} ${l.everFlowed}`),
    onRestored: (_c, downMs) => log.push(`RESTORED ${downMs}`),
  });
  stream.start();
  await clock.advanceAsync(8000);
  t.equal(addresses, 4, 'three failures then the address, with delays capped at 4 s');
  t.same(opened, ['rtsp://cam/4']);
  await clock.advanceAsync(2000);
  t.same(log, ['starting', 'lost ERR_STREAM_LOST', 'LOST ERR_STREAM_LOST false'], 'no frame within 10 s of asking: lost, with why');

  stream.frame();
  t.same(log.slice(3), ['flowing', 'RESTORED 0']);
  await clock.advanceAsync(9000);
  stream.frame();
  await clock.advanceAsync(9000);
  t.equal(stream.current, 'flowing', 'frames within 10 s keep it flowing');
  stream.sourceStatus({ camera: 'cam', state: 'restarting', code: 'ERR_DECODER_EXITED', message: 'decoder exited: Connection refused', restarts: 1 });
  await clock.advanceAsync(1000);
  t.same(log.slice(5), ['lost ERR_DECODER_EXITED', 'LOST ERR_DECODER_EXITED true'], 'lost 10 s after the last frame, with the decoder\'s reason');
  await clock.advanceAsync(20_000);
  t.same(log.slice(7), [], 'lost is reported once');
  await clock.advanceAsync(10_000);
  t.same(stopped, ['rtsp://cam/4'], 'still lost after 30 s: the decoder is closed…');
  t.same(opened, ['rtsp://cam/4', 'rtsp://cam/5'], '…and the address asked for again');
  stream.frame();
  t.match(log.at(-1), /^RESTORED \d+/);
  await stream.stop();
  t.same(stopped, ['rtsp://cam/4', 'rtsp://cam/5']);
});
