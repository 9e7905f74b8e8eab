/**
 * A camera watching a barrier lane reads plates (PP-OCRv4 on the decoded frames of a real video made from a
 * rendered plate) and reports vehicle.arrived at its barrier; the plate allow-list rule raises that barrier.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Event } from '@safe-community/contracts';
import { MEDIA_DIR, waitFor } from '@safe-community/testkit';
import { SimulatedBarrier } from '@safe-community/simulators';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';

t.test('camera plate read → vehicle.arrived at the barrier → allow-listed plate raises it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'video-plates-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Four seconds of video of the plate, as a lane camera would see a car waiting at the barrier.
  const video = join(dir, 'lane.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', join(MEDIA_DIR, 'plate_jing_A12345_blue.jpg'), '-t', '4', '-r', '5',
    '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);

  const agent = new EdgeAgent({
    config: loadEdgeConfig({
      edge: { id: 'hub-lane', site: 'site-p' }, dataDir: join(dir, 'data'), broker: { port: 0 }, admin: { enabled: false },
      linkage: { builtinRules: false, ruleFiles: [fileURLToPath(new URL('../rules/plates.example.yaml', import.meta.url))] },
      devices: [{ id: 'BR1', kind: 'car_barrier', profile: 'car_barrier.parkline-json', tags: { lane: 'L1' } }],
      cameras: [{ id: 'CAM-L1', stream: video, loop: true, tags: { lane: 'L1' }, analytics: { fps: 5, motion: false, plates: { barrier: 'BR1', lane: 'L1', everyMs: 500 } } }],
    }),
    logger: createLogger({ level: 'error' }),
  });
  await agent.start();
  const { password } = await agent.broker.credentials.provision('BR1');
  const barrier = new SimulatedBarrier({ url: `mqtt://127.0.0.1:${agent.broker.port}`, id: 'BR1', password });
  await barrier.start();
  t.teardown(async () => {
    await barrier.stop();
    await agent.stop();
  });
  const seen: Event[] = [];
  agent.events.onEvent((e) => { if (e.kind === 'vehicle.arrived') seen.push(e); });

  const arrived = await waitFor(() => seen[0], { what: 'vehicle.arrived from the camera', timeoutMs: 60_000 });
  t.equal(arrived.device, 'BR1', 'reported at the barrier the camera watches');
  t.equal(arrived.payload.plate, '京A12345', 'the plate read exactly');
  t.equal(arrived.payload.reader, 'camera');
  t.ok(Number(arrived.payload.frames) >= 2, `voted across frames (${String(arrived.payload.frames)} agreeing)`);
  t.equal(arrived.payload.camera, 'CAM-L1');
  t.match(String(arrived.payload.snapshot), /^snapshot:CAM-L1\//, 'with a snapshot');
  await waitFor(() => barrier.state === 'raised', { what: 'barrier raised by the allow-list rule', timeoutMs: 10_000 });
  t.pass('the allow-listed plate raised BR1');
  // A fixed wait: what follows proves the plate was not reported again in that time.
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(seen.length, 1, 'the same plate is not reported again within repeatMs');
});
