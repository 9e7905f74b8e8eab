/**
 * `edge-agent capacity` measures the real detector and ffmpeg decoding real video: once from a file, once
 * from the simulated ONVIF camera's RTSP stream. Only the structure and the sign of the figures are
 * checked here; the numbers themselves are this box's and are printed for the reader.
 */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_DIR } from '@safe-community/testkit';
import { CameraRig } from '@safe-community/simulators/camera';
import { runCli, EXIT, planCapacity, type CapacityReport } from '@safe-community/edge-agent';
import { capture, configDir } from './cli-rig.js';

function checkReport(t: Test, r: CapacityReport, fps: number): void {
  t.equal(r.fps, fps);
  t.ok(r.cores >= 1);
  t.equal(r.inference.model, 'yolox_nano_416_coco');
  t.ok(r.inference.medianMs > 0, `inference ${r.inference.medianMs} ms measured`);
  t.ok(r.decode.frames > 0 && r.decode.cpuSeconds >= 0 && r.decode.cpuMsPerVideoSecond > 0, `decode ${r.decode.cpuMsPerVideoSecond.toFixed(1)} ms/s measured`);
  t.equal(r.scenarios.length, 2);
  const [all, gated] = r.scenarios;
  t.equal(all?.skip, 0);
  t.ok(Number.isInteger(all?.cameras) && all!.cameras >= 0);
  t.ok(gated!.cpuMsPerCameraSecond < all!.cpuMsPerCameraSecond, 'skipping frames costs less per camera');
  t.ok(gated!.cameras >= all!.cameras, 'and fits at least as many cameras');
}

t.test('capacity from a real video file and a real image', async (t) => {
  const c = capture();
  const code = await runCli(['capacity', '--video', join(MEDIA_DIR, 'vtest_20s_h264.mp4'), '--image', join(MEDIA_DIR, 'person.jpg'),
    '--runs', '5', '--seconds', '3', '--motion-skip', '0.7', '--json'], { ...c.io, env: { EDGE_ADMIN_PORT: '0' } });
  t.comment(c.out.slice(0, -1).join('\n'));
  t.equal(code, EXIT.ok, c.err.join('\n'));
  const text = c.out.join('\n');
  t.match(text, /^\[1\/2\] detector yolox: 5 timed runs/m, 'progress while timing');
  t.match(text, /^\[2\/2\] decode 3 s of video at 5 fps, scaled to 416×416/m);
  t.match(text, /^scenario\s+CPU ms per camera-second\s+cameras at 5 fps$/m, 'the table');
  t.match(text, /motion gate skips 70 %/);
  const r = JSON.parse(c.out.at(-1)!) as CapacityReport;
  checkReport(t, r, 5);
  t.equal(r.scenarios[1]?.skip, 0.7);
  t.ok(r.decode.videoSeconds > 2 && r.decode.videoSeconds <= 3.2, 'about the asked seconds of video decoded');
});

t.test('capacity from the configured camera: ONVIF stream URI, RTSP decode, frame from the stream', async (t) => {
  const creds = { username: 'installer', password: 'cap-pw' };
  const rig = new CameraRig({ video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), camera: { credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') } });
  await rig.start();
  t.teardown(() => rig.stop());
  const { dir, config } = await configDir(t, 'capacity-');
  await writeFile(config, [
    'edge: { id: hub-cap, site: s }',
    `dataDir: ${join(dir, 'data')}`,
    'cameras:',
    `  - { id: yard, hostname: 127.0.0.1, port: ${rig.camera.port}, username: installer, password: cap-pw }`,
  ].join('\n'));
  const c = capture();
  const code = await runCli(['capacity', '--config', config, '--camera', 'yard', '--runs', '3', '--seconds', '2', '--fps', '4', '--json'], c.io);
  t.comment(c.out.slice(0, -1).join('\n'));
  t.equal(code, EXIT.ok, c.err.join('\n'));
  t.notMatch(c.out.join('\n'), /cap-pw/, 'the camera password is never printed');
  t.match(c.out.join('\n'), /timed runs on a camera frame/);
  checkReport(t, JSON.parse(c.out.at(-1)!) as CapacityReport, 4);
});

t.test('capacity usage errors exit 2', async (t) => {
  let c = capture();
  t.equal(await runCli(['capacity', '--video', join(MEDIA_DIR, 'vtest_20s_h264.mp4'), '--image', join(MEDIA_DIR, 'person.jpg'), '--motion-skip', '1.5'], c.io), EXIT.usage);
  t.match(c.err[0], /--motion-skip must be in \[0, 1\)/);
  c = capture();
  t.equal(await runCli(['capacity'], { ...c.io, env: { EDGE_ADMIN_PORT: '0' } }), EXIT.usage);
  t.match(c.err[0], /capacity needs --video/);
  c = capture();
  t.equal(await runCli(['capacity', '--fps', 'fast', '--video', 'x.mp4'], c.io), EXIT.usage);
  t.match(c.err[0], /--fps must be a number/);
});

t.test('the capacity arithmetic', async (t) => {
  // 2 cores × 80 % = 1600 CPU ms per second. 40 ms decode + 5 × 50 ms inference = 290 → 5 cameras;
  // with half the frames skipped: 40 + 125 = 165 → 9 cameras.
  const [all, gated] = planCapacity({ inferenceMs: 50, decodeMsPerSecond: 40, fps: 5, cores: 2, cpuBudget: 0.8, motionSkip: 0.5 });
  t.same(all, { name: 'every frame detected', skip: 0, cpuMsPerCameraSecond: 290, cameras: 5 });
  t.same(gated, { name: 'motion gate skips 50 %', skip: 0.5, cpuMsPerCameraSecond: 165, cameras: 9 });
});
