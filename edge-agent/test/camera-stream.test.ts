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
import { CameraRig } from '@safe-community/simulators/camera';
import { CameraManager, FileSnapshotStore, probe } from '../src/camera/index.js';

t.test('the ONVIF stream URI plays the looping video', async (t) => {
  const creds = { username: 'installer', password: 'stream-pw' };
  const rig = new CameraRig({
    video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'),
    camera: { credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') },
    discovery: { address: '127.0.0.1', port: 0 },
  });
  await rig.start();
  t.teardown(() => rig.stop());
  const { rtsp, camera: sim } = rig;
  const found = await probe({ target: '127.0.0.1', port: rig.discovery?.port ?? 0, interfaceAddress: '127.0.0.1', timeoutMs: 300 });
  t.same(found.map((c) => c.xaddrs[0]), [sim.deviceServiceUrl], 'the rig answers discovery');
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
  const anonymous = await new Promise<string>((resolve) =>
    execFile('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', `${rtsp.baseUrl}/main`], { timeout: 20_000 }, (err, _o, se) => resolve(err ? se : 'played')),
  );
  t.match(anonymous, /401|Unauthorized/i, 'the URI without credentials is refused, like a real camera');
  t.match((await m.snapshot('cam-1')).ref, /^snapshot:cam-1\//, 'snapshot works alongside the stream');
});
