/**
 * End to end: the adapter asks the simulated camera for its stream URI over ONVIF, and ffmpeg pulls and
 * decodes frames from the RTSP source behind that URI (the path the frame source takes in the agent).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_DIR } from '@safe-community/testkit';
import { RtspLoopSource, SimulatedOnvifCamera } from '@safe-community/simulators/camera';
import { CameraManager, FileSnapshotStore } from '../src/camera/index.js';

t.test('the ONVIF stream URI plays the looping video', async (t) => {
  const rtsp = new RtspLoopSource({ file: join(MEDIA_DIR, 'vtest_20s_h264.mp4') });
  await rtsp.start();
  t.teardown(() => rtsp.stop());
  const creds = { username: 'installer', password: 'stream-pw' };
  const sim = new SimulatedOnvifCamera({ credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg'), rtspBase: rtsp.baseUrl });
  await sim.start();
  t.teardown(() => sim.stop());
  const dir = await mkdtemp(join(tmpdir(), 'cam-stream-'));
  const m = new CameraManager({
    site: 'site-1',
    edge: 'edge-1',
    cameras: [{ id: 'cam-1', hostname: '127.0.0.1', port: sim.port, ...creds, events: false }],
    snapshots: new FileSnapshotStore({ dir }),
  });
  await m.start();
  t.teardown(async () => {
    await m.stop();
    await rm(dir, { recursive: true, force: true });
  });

  t.equal(await m.streamUri('cam-1'), `${rtsp.baseUrl}/main`);
  // What the frame source gets: the same URI with the camera's credentials in it.
  const uri = await m.authenticatedStreamUri('cam-1');
  t.equal(uri, `rtsp://installer:stream-pw@127.0.0.1:${rtsp.port}/main`);
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile('ffmpeg', ['-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', uri, '-frames:v', '8', '-vf', 'scale=320:-2', '-f', 'null', '-'], { timeout: 20_000 }, (err, _out, se) =>
      err ? reject(new Error(`ffmpeg failed: ${se.slice(-400)}`, { cause: err })) : resolve(se),
    );
  });
  t.match(stderr, /Video: h264.*768x576/, 'ffmpeg saw the camera stream');
  t.match(stderr, /frame=\s*8\b/, 'eight frames decoded');
  t.match((await m.snapshot('cam-1')).ref, /^snapshot:cam-1\//, 'snapshot works alongside the stream');
});
