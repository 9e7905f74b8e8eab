/**
 * Profile roles: the analytics stream defaults to the smallest profile that still reaches the detector's
 * input, snapshots to the main (largest) one, PTZ to the main one with a PTZ configuration; a configured
 * token per role wins, and a token the camera does not have is refused by name. Then the same over real
 * SOAP: the analysed stream URI is the sub-stream's while snapshots come from the main profile.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_DIR } from '@safe-community/testkit';
import { SimulatedOnvifCamera } from '@safe-community/simulators/camera';
import { CameraManager, FileSnapshotStore, chooseProfile, type MediaProfile } from '../src/camera/index.js';

const P = (token: string, width: number, height: number, ptz = false): MediaProfile => ({ token, name: token, width, height, ptz });
const camera8mp = [P('main', 3840, 2160, true), P('sub', 640, 360), P('third', 1280, 720)];

t.test('defaults per role', async (t) => {
  t.equal(chooseProfile(camera8mp, 'analytics'), 'sub', '640×360 reaches 416 on its long side: the cheapest decode');
  t.equal(chooseProfile(camera8mp, 'snapshot'), 'main');
  t.equal(chooseProfile(camera8mp, 'ptz'), 'main');
  t.equal(chooseProfile([P('main', 1920, 1080), P('tiny', 352, 288), P('ptzsub', 704, 576, true)], 'analytics'), 'ptzsub', 'a 352-pixel profile would be upscaled: skipped');
  t.equal(chooseProfile([P('main', 1920, 1080), P('ptzsub', 704, 576, true)], 'ptz'), 'ptzsub', 'the profile that has PTZ');
  t.equal(chooseProfile([P('a', 320, 240), P('b', 352, 288)], 'analytics'), 'b', 'none reaches the input: the largest');
  t.equal(chooseProfile([], 'analytics'), undefined);
});

t.test('configured tokens win, and an unknown one is refused by name', async (t) => {
  t.equal(chooseProfile(camera8mp, 'analytics', { analytics: 'third' }), 'third');
  t.equal(chooseProfile(camera8mp, 'snapshot', { profileToken: 'third' }), 'third', 'the single profileToken still serves every role');
  t.equal(chooseProfile(camera8mp, 'analytics', { profileToken: 'third', analytics: 'sub' }), 'sub');
  t.throws(() => chooseProfile(camera8mp, 'ptz', { ptz: 'mian' }, 'cam-9'), { code: 'CAMERA_CONFIG', message: /camera cam-9: no media profile "mian" for ptz \(has main, sub, third\)/ });
});

t.test('over SOAP: analytics on the sub-stream, snapshots and presets on the main profile', async (t) => {
  const sim = new SimulatedOnvifCamera({
    credentials: { username: 'u', password: 'p' }, snapshotFile: join(MEDIA_DIR, 'person.jpg'), rtspBase: 'rtsp://127.0.0.1:8554',
    profiles: [
      { token: 'main', name: 'main', width: 2688, height: 1520, fps: 20, streamPath: '/main', encoding: 'H265' },
      { token: 'sub', name: 'sub', width: 640, height: 480, fps: 10, streamPath: '/sub' },
    ],
  });
  await sim.start();
  const dir = await mkdtemp(join(tmpdir(), 'cam-roles-'));
  const m = new CameraManager({ site: 's', edge: 'e', cameras: [{ id: 'cam-1', hostname: '127.0.0.1', port: sim.port, username: 'u', password: 'p' }], snapshots: new FileSnapshotStore({ dir }) });
  await m.start();
  t.teardown(async () => {
    await m.stop();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.equal(await m.streamUri('cam-1'), 'rtsp://127.0.0.1:8554/sub', 'the analysed stream is the sub-stream');
  t.equal(await m.streamUri('cam-1', 'snapshot'), 'rtsp://127.0.0.1:8554/main', 'recording would take the main one');
  t.equal(await m.authenticatedStreamUri('cam-1'), 'rtsp://u:p@127.0.0.1:8554/sub');
  await m.gotoPreset('cam-1', 'gate');
  t.equal(sim.currentPreset, 'preset_gate');
});
