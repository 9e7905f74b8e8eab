/**
 * The ONVIF adapter against field behaviours of real firmwares, each switched on in the simulated camera
 * as a quirk (real SOAP over HTTP on 127.0.0.1): no events service, a connection reset on subscription,
 * a Renew that always faults, Renew that needs the WS-Addressing headers, two motion topics, a camera that
 * refuses any WS-Security header, URIs wrapped in whitespace, an H.265 profile, and a camera that flaps.
 */
import t, { type Test } from 'tap';
import { waitFor } from '@safe-community/testkit';
import { type CameraQuirks, type SimulatedCameraOptions } from '@safe-community/simulators/camera';
import { CameraStateBoard, type CameraConfig, type CameraManagerOptions } from '../src/camera/index.js';
import { cameraConfig, startCamera, startManager } from './camera-rig.js';

/** A camera with the given quirks switched on. */
const sim = (t: Test, quirks: CameraQuirks, extra: Partial<SimulatedCameraOptions> = {}) => startCamera(t, { quirks, ...extra });

/** A manager that also keeps a state board (heartbeat every 100 ms). */
async function manager(t: Test, cams: CameraConfig[], over: Partial<CameraManagerOptions> = {}) {
  const board = new CameraStateBoard();
  for (const c of cams) board.register(c.id, { link: true, stream: false, events: c.events });
  return { ...await startManager(t, cams, { board, heartbeatMs: 100, ...over }), board };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a camera without an events service is watched by heartbeat, marked "events unsupported" once, and never flaps', async (t) => {
  const cam = await sim(t, { events: 'none' });
  const { m, events, board } = await manager(t, [cameraConfig(cam)]);
  t.equal(m.status('cam-1').state, 'online');
  // Eight heartbeats: a fixed wait, because what follows proves no flap happened in that time.
  await settle(800);
  t.equal(board.get('cam-1')?.events, 'unsupported');
  t.equal(board.get('cam-1')?.state, 'online');
  t.same(events.map((e) => e.kind), [], 'no offline/online events from a camera that simply has no events');
  await cam.stop();
  const offline = await waitFor(() => events.find((e) => e.kind === 'camera.offline'), { what: 'a real outage is still seen by the heartbeat' });
  t.equal(offline.payload.code, 'CAMERA_OFFLINE');
});

t.test('a camera that resets the connection on CreatePullPointSubscription is not taken for offline', async (t) => {
  const cam = await sim(t, { events: 'reset-on-subscribe' });
  const { m, events, board } = await manager(t, [cameraConfig(cam)]);
  // Eight heartbeats: a fixed wait, because what follows proves no flap happened in that time.
  await settle(800);
  t.equal(m.status('cam-1').state, 'online');
  t.equal(board.get('cam-1')?.events, 'unsupported', 'the reset is read as "no events", once');
  t.same(events.filter((e) => e.kind === 'camera.offline' || e.kind === 'camera.online'), [], 'no flapping (the field saw 134 events in 53 s)');
  const before = cam.requestCount;
  // A fixed window over which the requests are counted (no subscribe retries in it).
  await settle(500);
  t.ok(cam.requestCount - before <= 8, `only heartbeats afterwards (${cam.requestCount - before} requests in 0.5 s), no subscribe retries`);
});

t.test('a camera found without events is asked again only after eventsRetryMs, and takes events once it has them', async (t) => {
  const cam = await sim(t, { events: 'reset-on-subscribe' });
  const { events, board } = await manager(t, [cameraConfig(cam)], { eventsRetryMs: 600 });
  // A fixed window: no flap in it, and the requests made while unsupported are counted over it.
  await settle(1500);
  const attempts = cam.requestCount;
  t.equal(board.get('cam-1')?.events, 'unsupported');
  t.same(events, [], 'still no flapping');
  // The firmware is fixed in place: the next retry subscribes.
  cam.setQuirks({ events: 'normal' });
  await waitFor(() => board.get('cam-1')?.events === 'subscribed', { what: 'events taken up after the retry interval', timeoutMs: 3000 });
  t.ok(attempts < 40, `bounded requests while unsupported (${attempts} in 1.5 s with a 100 ms heartbeat)`);
  cam.setMotion(true);
  await waitFor(() => events.find((e) => e.kind === 'camera.motion'), { what: 'motion events flow' });
});

t.test('Renew carries the WS-Addressing headers the spec asks for', async (t) => {
  const cam = await sim(t, { renew: 'needs-addressing' }, { subscriptionTtlMs: 2000, maxPullWaitMs: 200 });
  await manager(t, [cameraConfig(cam)]);
  await waitFor(() => cam.eventStats.renewals >= 3, { what: 'three renewals' });
  t.equal(cam.eventStats.renewalsRefused, 0, 'no Renew refused');
  t.equal(cam.eventStats.subscriptions, 1, 'the first subscription lives on');
});

t.test('a Renew that always faults is replaced by a new subscription; two motion topics keep their own state', async (t) => {
  const cam = await sim(t, { renew: 'fault', motionTopics: 'both' }, { subscriptionTtlMs: 2000, maxPullWaitMs: 200 });
  const { m, events } = await manager(t, [cameraConfig(cam)]);
  await waitFor(() => cam.subscriptionCount > 0, { what: 'subscription' });
  cam.setMotion(true);
  await waitFor(() => events.filter((e) => e.kind === 'camera.motion').length >= 2, { what: 'motion on both topics' });
  // Motion stays on while the agent replaces its subscription several times.
  await waitFor(() => cam.eventStats.subscriptions >= 4, { what: 'subscriptions replaced after refused Renews' });
  const motion = events.filter((e) => e.kind === 'camera.motion');
  t.same(motion.map((e) => [e.payload.topic, e.payload.active]).sort(), [
    ['tns1:RuleEngine/CellMotionDetector/Motion', true],
    ['tns1:VideoSource/MotionAlarm', true],
  ], 'one start per topic and no stop while motion is held (the field saw true→false on every resubscription)');
  t.ok(cam.eventStats.unsubscribes >= 3, 'each replaced subscription is unsubscribed');
  t.ok(cam.subscriptionCount <= 1, 'no subscriptions left behind on the camera');
  t.equal(m.status('cam-1').state, 'online');
  t.same(events.filter((e) => e.kind === 'camera.offline'), []);
  cam.setMotion(false);
  await waitFor(() => events.filter((e) => e.kind === 'camera.motion' && e.payload.active === false).length === 2, { what: 'both topics end' });
});

t.test('stop unsubscribes from the camera', async (t) => {
  const cam = await sim(t, {});
  const { m } = await manager(t, [cameraConfig(cam)]);
  await waitFor(() => cam.subscriptionCount === 1, { what: 'subscription' });
  await m.stop();
  t.equal(cam.eventStats.unsubscribes, 1);
  t.equal(cam.subscriptionCount, 0, 'nothing left for the camera to hold until it expires');
});

t.test('a camera without authentication: no WS-Security header without a username; with one, a clear error', async (t) => {
  const cam = await sim(t, { wsSecurity: 'refused' });
  const { m, board } = await manager(t, [cameraConfig(cam, { username: '', password: '' }), cameraConfig(cam, { id: 'cam-2' })]);
  t.equal(m.status('cam-1').state, 'online', 'no username: no Security header, accepted');
  t.same((await m.presets('cam-1')).map((p) => p.name), ['home', 'gate', 'carpark']);
  t.ok((await m.snapshot('cam-1')).ref.startsWith('snapshot:cam-1/'));
  t.equal(await m.authenticatedStreamUri('cam-1'), 'rtsp://127.0.0.1:8554/main', 'no empty credentials in the stream URI');
  t.equal(board.get('cam-2')?.state, 'unauthorized');
  t.match(board.get('cam-2')?.reason, /does not accept WS-Security credentials; if it has no authentication, leave username empty/);
});

t.test('URIs wrapped in whitespace and newlines, and an H.265 profile', async (t) => {
  const cam = await sim(t, { uriWhitespace: true }, {
    profiles: [
      { token: 'main265', name: 'main', width: 2560, height: 1440, fps: 20, streamPath: '/main', encoding: 'H265' },
      { token: 'sub264', name: 'sub', width: 640, height: 360, fps: 10, streamPath: '/sub' },
    ],
  });
  const { m } = await manager(t, [cameraConfig(cam)]);
  t.equal(await m.streamUri('cam-1', 'snapshot'), 'rtsp://127.0.0.1:8554/main');
  t.equal(await m.streamUri('cam-1'), 'rtsp://127.0.0.1:8554/sub', 'analytics takes the H.264 sub-stream');
  t.equal(await m.snapshotUri('cam-1'), `http://127.0.0.1:${cam.port}/onvif/snapshot.jpg`);
  t.match(m.profiles('cam-1'), [{ token: 'main265', encoding: 'H265', width: 2560 }, { token: 'sub264', encoding: 'H264', width: 640 }]);
});

t.test('a camera that flaps reports one offline and, once stable, one online', async (t) => {
  const cam = await sim(t, { events: 'none' });
  const { events } = await manager(t, [cameraConfig(cam)], { onlineHoldMs: 1500 });
  for (let i = 0; i < 4; i++) {
    await cam.stop();
    await waitFor(() => events.some((e) => e.kind === 'camera.offline'), { what: 'offline seen' });
    // Fixed down and up times drive the flapping itself; the hold is what must absorb them.
    await settle(250);
    await cam.start();
    await settle(400);
  }
  t.same(events.map((e) => e.kind), ['camera.offline'], 'four outages in a row: one camera.offline, no online yet');
  await waitFor(() => events.some((e) => e.kind === 'camera.online'), { what: 'online after the hold', timeoutMs: 5000 });
  t.same(events.map((e) => e.kind), ['camera.offline', 'camera.online']);
});

t.test('goto-preset is confirmed by reading the PTZ position back', async (t) => {
  const good = await sim(t, {}, { ptzMoveMs: 300 });
  const stuck = await sim(t, { ptz: 'stuck' });
  const blind = await sim(t, { ptz: 'none' });
  const { m } = await manager(t, [cameraConfig(good), cameraConfig(stuck, { id: 'cam-stuck' }), cameraConfig(blind, { id: 'cam-blind' })], { ptzConfirmMs: 800 });
  const t0 = performance.now();
  t.equal(await m.gotoPreset('cam-1', 'carpark'), 'position', 'confirmed by position');
  t.ok(performance.now() - t0 >= 250, 'only once the head had arrived, not when the SOAP call returned');
  await t.rejects(m.gotoPreset('cam-stuck', 'gate'), { code: 'CAMERA_PTZ_NOT_CONFIRMED', message: /camera cam-stuck: preset "gate" not reached within 800 ms \(at pan 0, tilt 0, zoom 0; preset pan -0.25/ },
    'a camera that answers GotoPreset but does not move is caught');
  t.equal(await m.gotoPreset('cam-blind', 'gate'), 'answer', 'a camera without GetStatus: its answer is all there is, and the result says so');
});
