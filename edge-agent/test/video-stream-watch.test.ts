/**
 * CameraStream on a manual clock: an address that is not known yet is retried with capped backoff and never
 * fails; no frame for lostAfterMs → one `lost`; frames again → `restored` with the outage length; a stream
 * that stays lost is closed and its address asked for again (a rebooted camera may hand out a new URI).
 */
import t from 'tap';
import { createLogger } from '@safe-community/runtime';
import { CameraStream } from '../src/video/camera-stream.js';

class ManualClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Moves time on, running due timers in order (and letting promises settle between them). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

t.test('address retried, lost once, restored, reopened while lost', async (t) => {
  const clock = new ManualClock();
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
  await clock.advance(8000);
  t.equal(addresses, 4, 'three failures then the address, with delays capped at 4 s');
  t.same(opened, ['rtsp://cam/4']);
  await clock.advance(2000);
  t.same(log, ['starting', 'lost ERR_STREAM_LOST', 'LOST ERR_STREAM_LOST false'], 'no frame within 10 s of asking: lost, with why');

  stream.frame();
  t.same(log.slice(3), ['flowing', 'RESTORED 0']);
  await clock.advance(9000);
  stream.frame();
  await clock.advance(9000);
  t.equal(stream.current, 'flowing', 'frames within 10 s keep it flowing');
  stream.sourceStatus({ camera: 'cam', state: 'restarting', code: 'ERR_DECODER_EXITED', message: 'decoder exited: Connection refused', restarts: 1 });
  await clock.advance(1000);
  t.same(log.slice(5), ['lost ERR_DECODER_EXITED', 'LOST ERR_DECODER_EXITED true'], 'lost 10 s after the last frame, with the decoder\'s reason');
  await clock.advance(20_000);
  t.same(log.slice(7), [], 'lost is reported once');
  await clock.advance(10_000);
  t.same(stopped, ['rtsp://cam/4'], 'still lost after 30 s: the decoder is closed…');
  t.same(opened, ['rtsp://cam/4', 'rtsp://cam/5'], '…and the address asked for again');
  stream.frame();
  t.match(log.at(-1), /^RESTORED \d+/);
  await stream.stop();
  t.same(stopped, ['rtsp://cam/4', 'rtsp://cam/5']);
});
