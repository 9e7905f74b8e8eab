/**
 * The camera state board folds a camera's ONVIF link and analysed stream into one state with its reason and
 * since when: retries after a failure keep the failure (and its time), a lost stream under a working link is
 * "degraded", and a stream-only camera that loses its stream is "offline".
 */
import t from 'tap';
import { CameraStateBoard, type CameraHealth } from '../src/camera/index.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), setTimeout: () => 0, clearTimeout: () => {} };
}

t.test('link and stream fold into one state with reason and since', async (t) => {
  const c = clock();
  const board = new CameraStateBoard({ clock: c });
  const changes: CameraHealth[] = [];
  board.onChange((h) => changes.push(h));
  board.register('cam', { link: true, stream: true });
  t.match(board.get('cam'), { state: 'connecting', link: 'connecting', stream: 'starting' });

  const offline = { state: 'offline' as const, since: c.now(), error: { code: 'CAMERA_OFFLINE', message: 'camera cam: connect failed: camera offline (ECONNREFUSED)' } };
  board.setLink('cam', offline);
  const since = board.get('cam')!.since;
  t.match(board.get('cam'), { state: 'offline', code: 'CAMERA_OFFLINE', reason: /ECONNREFUSED/ });
  c.advance(5000);
  board.setLink('cam', { state: 'connecting', since: c.now(), error: offline.error });
  t.match(board.get('cam'), { state: 'offline', since }, 'a retry is not "connecting": the outage and its start time stay');

  board.setLink('cam', { state: 'offline', since: c.now(), error: { code: 'CAMERA_AUTH_FAILED', message: 'authentication failed' } });
  t.equal(board.get('cam')!.state, 'unauthorized');

  c.advance(1000);
  board.setLink('cam', { state: 'online', since: c.now() });
  t.match(board.get('cam'), { state: 'online', reason: '' }, 'a starting stream does not hold an online link back');
  board.setStream('cam', 'lost', { code: 'ERR_DECODER_EXITED', reason: 'decoder exited' });
  t.match(board.get('cam'), { state: 'degraded', code: 'ERR_DECODER_EXITED', reason: 'decoder exited', link: 'online', stream: 'lost' });
  t.ok(board.controllable('cam'), 'presets and snapshots still work on a degraded camera');
  board.setStream('cam', 'flowing');
  t.equal(board.get('cam')!.state, 'online');
  t.same(changes.map((h) => h.state), ['offline', 'unauthorized', 'online', 'degraded', 'online'], 'listeners hear each change once');
});

t.test('a stream-only camera is as good as its stream', async (t) => {
  const board = new CameraStateBoard({ clock: clock() });
  board.register('file-cam', { link: false, stream: true });
  t.equal(board.get('file-cam')!.state, 'connecting');
  board.setStream('file-cam', 'flowing');
  t.equal(board.get('file-cam')!.state, 'online');
  board.setStream('file-cam', 'lost');
  t.match(board.get('file-cam'), { state: 'offline', code: 'ERR_STREAM_LOST' });
  t.notOk(board.controllable('file-cam'), 'no ONVIF link: no camera actions');
  t.same(board.list().map((h) => h.camera), ['file-cam']);
});
