/**
 * `edge-agent doctor` against real parts: the simulated ONVIF camera with its RTSP source playing a real
 * video (ffmpeg pulls a frame), the real YOLOX model timed on that frame, an in-process Aedes as the
 * uplink broker, and a local HTTP server as the cloud's clock. Figures are checked for shape and sign only;
 * how fast this box is belongs in benchmarks.
 */
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, MEDIA_DIR, RestartableBroker, tempDir } from '@safe-community/testkit';
import { CameraRig, SimulatedOnvifCamera } from '@safe-community/simulators/camera';
import { runCli, EXIT, type DoctorReport } from '@safe-community/edge-agent';
import { checkUplink } from '../src/doctor/index.js';
import { loadEdgeConfig } from '@safe-community/edge-agent';
import { capture, configDir } from './cli-rig.js';

const creds = { username: 'installer', password: 'doctor-pw' };

t.test('doctor on a healthy box: every check ok, figures measured', async (t) => {
  const rig = new CameraRig({ video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), camera: { credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') } });
  await rig.start();
  t.teardown(() => rig.stop());
  const uplink = new RestartableBroker();
  await uplink.start();
  t.teardown(() => uplink.stop());
  // Node's HTTP server sends a Date header on every answer, as the cloud ingest (Fastify) does.
  const cloud: Server = createServer((_req, res) => res.end());
  await new Promise<void>((r) => cloud.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => cloud.close(() => r())));
  const cloudPort = (cloud.address() as { port: number }).port;

  const { dir, config } = await configDir(t, 'doctor-');
  await writeFile(config, [
    'edge: { id: hub-doc, site: site-doc }',
    `dataDir: ${join(dir, 'data')}`,
    `broker: { port: ${await freePort()} }`,
    `admin: { port: ${await freePort()} }`,
    `uplink: { url: "${uplink.url}", secret: "edge_doctor-test-secret-0123456789" }`,
    `cloud: { url: "http://127.0.0.1:${cloudPort}/" }`,
    'outbox: { capacityBytes: 16777216 }',
    'cameras:',
    `  - { id: lobby, hostname: 127.0.0.1, port: ${rig.camera.port}, username: ${creds.username}, password: ${creds.password}, tags: { covers: B1, fire_preset: gate } }`,
    `  - { id: replay, stream: ${join(MEDIA_DIR, 'vtest_20s_h264.mp4')} }`,
  ].join('\n'));

  const c = capture();
  const code = await runCli(['doctor', '--config', config, '--runs', '3', '--json'], c.io);
  const text = c.out.slice(0, -1).join('\n');
  t.comment(text);
  t.equal(code, EXIT.ok, c.err.join('\n'));
  for (let i = 1; i <= 6; i++) t.match(text, new RegExp(`^\\[${i}/6\\] `, 'm'), `progress line for step ${i}`);
  t.match(text, /^check\s+status\s+detail$/m, 'summary table');
  t.match(text, /all checks passed/);
  t.notMatch(text, /doctor-pw/, 'the camera password never printed');

  const report = JSON.parse(c.out.at(-1)!) as DoctorReport;
  const get = (name: string) => report.checks.find((x) => x.name === name)!;
  t.equal(report.ok, true);
  t.same(report.checks.map((x) => x.name), ['camera lobby', 'camera lobby profiles', 'camera lobby snapshot', 'camera lobby events', 'camera lobby presets',
    'camera replay', 'model', 'device broker port', 'uplink broker', 'disk for outbox', 'clock drift']);
  t.same(report.checks.map((x) => x.status), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  t.match(get('camera lobby profiles').detail, /^analytics → profile_main, snapshot → profile_main, ptz → profile_main; profile_main 768×576 H264 10 fps PTZ/);
  t.match(get('camera lobby snapshot').detail, /^JPEG of \d+ bytes/, 'snapshot fetched with Digest');
  t.match(get('camera lobby events').detail, /^subscribed, pulled once \(\d+ notifications?\), unsubscribed$/);
  t.equal(rig.camera.subscriptionCount, 0, 'doctor leaves no subscription on the camera');
  t.equal(get('camera lobby presets').detail, 'gate present', 'the preset the fire rule names is on the camera');
  t.match(get('camera replay').detail, /stream only, no ONVIF; stream decodes/, 'a stream-only camera is decoded without ONVIF');
  t.match(get('camera lobby').detail, /stream decodes \(rtsp:\/\/installer:\*\*\*@127\.0\.0\.1/, 'stream URI shown with the password redacted');
  t.ok(get('camera lobby').figures!.firstFrameMs! > 0 && get('camera lobby').figures!.frameBytes! > 1000, 'a real JPEG frame was pulled');
  const model = get('model');
  t.match(model.detail, /yolox_nano_416_coco \(sha256 4903c9058f6e… verified\)/);
  t.match(model.detail, /on a frame of camera lobby/, 'timed on the camera\'s own frame');
  t.ok(model.figures!.medianMs! > 0 && model.figures!.p90Ms! >= model.figures!.minMs!, 'inference ms measured');
  t.equal(model.figures!.runs, 3);
  t.ok(model.figures!.detections! >= 1, 'people in the corridor video are detected');
  t.match(model.detail, /detections with score ≥ 0\.5 \(person/, 'only boxes the agent would act on are counted');
  t.ok(get('disk for outbox').figures!.freeBytes! > 0);
  t.ok(Math.abs(get('clock drift').figures!.driftMs!) < 2000, 'same machine, same clock (within the Date header\'s second)');
  t.ok(get('uplink broker').figures!.connectMs! >= 0);
});

t.test('doctor reports each failure with its check and exits 1', async (t) => {
  const rig = new CameraRig({ video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), camera: { credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') } });
  await rig.start();
  t.teardown(() => rig.stop());
  const dir = await tempDir(t, 'doctor-');
  // A port something already listens on, so the device broker could not start.
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => busy.close(() => r())));
  const busyPort = (busy.address() as { port: number }).port;
  // A camera that cuts the connection on CreatePullPointSubscription: it made the agent flap in the field.
  const resetting = new SimulatedOnvifCamera({ credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg'), rtspBase: rig.rtsp.baseUrl, quirks: { events: 'reset-on-subscribe' } });
  await resetting.start();
  t.teardown(() => resetting.stop());
  const config = join(dir, 'edge.yaml');
  await writeFile(config, [
    'edge: { id: hub-bad, site: site-doc }',
    `dataDir: ${join(dir, 'data')}`,
    `broker: { port: ${busyPort} }`,
    `admin: { port: ${await freePort()} }`,
    `uplink: { url: "mqtt://127.0.0.1:${await freePort()}" }`,
    'cameras:',
    `  - { id: gate-cam, hostname: 127.0.0.1, port: ${rig.camera.port}, username: installer, password: wrong }`,
    `  - { id: typo-cam, hostname: 127.0.0.1, port: ${rig.camera.port}, username: installer, password: doctor-pw, tags: { covers: B1, fire_preset: FireExti } }`,
    `  - { id: noev-cam, hostname: 127.0.0.1, port: ${resetting.port}, username: installer, password: doctor-pw }`,
  ].join('\n'));
  const c = capture();
  const code = await runCli(['doctor', '--config', config, '--models-dir', dir, '--image', join(MEDIA_DIR, 'person.jpg'), '--json', '--timeout-ms', '2000'], c.io);
  t.comment(c.out.slice(0, -1).join('\n'));
  t.equal(code, EXIT.failed);
  const report = JSON.parse(c.out.at(-1)!) as DoctorReport;
  const get = (name: string) => report.checks.find((x) => x.name === name)!;
  t.equal(report.ok, false);
  t.equal(get('camera gate-cam').status, 'fail', 'refused credentials');
  t.match(get('camera gate-cam').detail, /^ONVIF: /);
  t.equal(get('camera typo-cam').status, 'ok', 'the camera itself works');
  t.equal(get('camera typo-cam presets').status, 'fail', 'but the fire rule would send it to a preset it does not have');
  t.match(get('camera typo-cam presets').detail, /"FireExti" \(rule fire-evacuation\) not on the camera \(has home, gate, carpark\)/);
  t.equal(get('camera noev-cam events').status, 'warn', 'a camera without usable events is flagged');
  t.match(get('camera noev-cam events').detail, /watches it by heartbeat/);
  t.equal(get('model').status, 'fail');
  t.equal(get('model').code, 'ERR_MODEL_MISSING', 'no weights in the given models dir');
  t.equal(get('device broker port').status, 'fail');
  t.equal(get('device broker port').code, 'EADDRINUSE');
  t.equal(get('uplink broker').status, 'fail', 'nothing listens at the uplink URL');
  t.equal(get('clock drift').status, 'not checked', 'no cloud URL configured');
  t.match(c.out.join('\n'), /5 checks failed \(1 warning/);
});

t.test('doctor exits 2 on a bad config', async (t) => {
  const { config } = await configDir(t, 'doctor-');
  await writeFile(config, 'cameras:\n  - { id: c1 }\n');
  const c = capture();
  t.equal(await runCli(['doctor', '--config', config], c.io), EXIT.usage);
  t.match(c.err[0], /ERR_CONFIG: invalid edge config: cameras/);
});

t.test('doctor warns when the box has no secret of its own: its commands would not be authenticated', async (t) => {
  const broker = new RestartableBroker();
  await broker.start();
  t.teardown(() => broker.stop());
  const r = await checkUplink(loadEdgeConfig({ edge: { id: 'hub-nosecret', site: 's' }, uplink: { url: broker.url } }));
  t.equal(r.status, 'warn');
  t.match(r.detail, /EDGE_SECRET/);
});
