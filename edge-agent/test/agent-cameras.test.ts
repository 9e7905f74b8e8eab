/**
 * Cameras inside the whole agent (issue #14): an analytics camera that is unreachable at start does not stop
 * the agent, the fire linkage runs, and the camera's actions fail fast as linkage.failed naming it; a
 * stream whose RTSP server dies is reported lost (event, health, fps gauge at 0) and restored when the server
 * returns; the admin endpoint lists cameras with their state.
 */
import t from 'tap';
import { join } from 'node:path';
import { freePort, MEDIA_DIR, startParts, waitFor } from '@safe-community/testkit';
import { SimulatedFirePanel, SimulatedGate } from '@safe-community/simulators';
import { CameraRig, SimulatedOnvifCamera } from '@safe-community/simulators/camera';
import type { EdgeAgent } from '@safe-community/edge-agent';
import { EVACUATION_GATE, FIRE_PANEL, deviceLogin, startAgent } from './agent-rig.js';

const CREDS = { username: 'installer', password: 's3cret-Pass' };

type Stored = { type: string; data: { kind?: string; type?: string; device: string; message?: string; payload?: Record<string, unknown> } };
async function stored(agent: EdgeAgent): Promise<Stored[]> {
  return (await agent.outbox.readFrom(1, 10_000, 1 << 24)).map((r) => JSON.parse(r.json) as Stored);
}

t.test('an unreachable analytics camera does not stop the agent; the fire linkage runs and the camera fails fast, by name', async (t) => {
  const agent = await startAgent(t, {
    edge: { id: 'hub-cam', site: 'site-k' }, admin: { enabled: true, port: 0 },
    video: { streamLostSec: 2 },
    devices: [FIRE_PANEL, EVACUATION_GATE],
    cameras: [{ id: 'CAM-DEAD', hostname: '127.0.0.1', port: await freePort(), ...CREDS, tags: { covers: 'B1', fire_preset: 'gate' }, analytics: { fps: 2 } }],
  });
  const [panel, gate] = await startParts(t,
    new SimulatedFirePanel({ ...await deviceLogin(agent, 'FP1'), dialect: 'nova-json' }),
    new SimulatedGate({ ...await deviceLogin(agent, 'G1'), dialect: 'acme-json' }));

  t.match(agent.cameraStates.get('CAM-DEAD'), { state: 'offline', code: 'CAMERA_OFFLINE', link: 'offline' }, 'the camera is offline, with its reason');
  await panel.raiseAlarm({ zone: 3, loop: 1, detector: 7, type: 'smoke' });
  await waitFor(() => gate.state === 'held_open', { what: 'evacuation gate held open' });
  const failed = await waitFor(async () => (await stored(agent)).find((r) => r.type === 'alarm' && r.data.type === 'linkage.failed' && r.data.device === 'CAM-DEAD'),
    { what: 'linkage.failed naming the camera' });
  t.match(failed.data.message, /camera CAM-DEAD goto_preset failed \(camera CAM-DEAD is offline/, 'says which camera and why');
  await agent.linkage.idle();
  const execution = (await stored(agent)).find((r) => r.type === 'linkage');
  const camAction = (execution?.data as unknown as { actions?: Array<{ device: string; action: string; attempts: number; status: string }> })?.actions
    ?.find((a) => a.device === 'CAM-DEAD' && a.action === 'goto_preset');
  t.match(camAction, { status: 'failed', attempts: 1 }, 'one attempt, no retry budget spent on a camera known to be offline');

  const lost = await waitFor(async () => (await stored(agent)).find((r) => r.type === 'event' && r.data.kind === 'camera.stream_lost'), { what: 'stream_lost for a stream that never started' });
  t.match(lost.data, { device: 'CAM-DEAD', payload: { everFlowed: false, code: 'CAMERA_OFFLINE' } });

  const admin = `http://127.0.0.1:${agent.admin!.port}`;
  const healthRes = await fetch(`${admin}/health`);
  const health = await healthRes.json() as { status: string; parts: Record<string, { state: string; reason?: string }> };
  t.equal(healthRes.status, 200, 'a dead camera does not make the edge unhealthy');
  t.equal(health.status, 'degraded', 'it degrades the report, naming the camera');
  t.match(health.parts['camera:CAM-DEAD'], { state: 'degraded', reason: /^offline/ });
  t.equal(health.parts.linkage?.state, 'up', 'the fire linkage runs');
  const cameras = await (await fetch(`${admin}/cameras`)).json() as Array<{ camera: string; state: string; reason: string; since: string }>;
  t.match(cameras, [{ camera: 'CAM-DEAD', state: 'offline', reason: /offline/, since: /^\d{4}-/ }]);
  const devices = await (await fetch(`${admin}/devices`)).json() as Array<{ id: string; kind: string; online: boolean }>;
  t.match(devices.find((d) => d.id === 'CAM-DEAD'), { kind: 'camera', online: false }, '/devices lists cameras too');
});

t.test('a stream whose server dies is reported lost (event, health, gauge) and restored when it returns', async (t) => {
  const [rig] = await startParts(t, new CameraRig({ video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'), camera: { credentials: CREDS, snapshotFile: join(MEDIA_DIR, 'person.jpg') } }));
  const agent = await startAgent(t, {
    edge: { id: 'hub-stream', site: 'site-k' },
    video: { streamLostSec: 2 },
    cameras: [{ id: 'CAM1', hostname: '127.0.0.1', port: rig.camera.port, ...CREDS, tags: {}, analytics: { fps: 5, motion: false } }],
  });
  const fps = async () => Number(/^edge_video_fps\{[^}]*camera="CAM1"[^}]*\} (\S+)$/m.exec(await agent.metrics.registry.metrics())?.[1] ?? NaN);
  await waitFor(() => agent.cameraStates.get('CAM1')?.stream === 'flowing', { what: 'frames flowing', timeoutMs: 30_000 });
  await waitFor(async () => (await fps()) > 0, { what: 'fps gauge up' });

  const before = (await stored(agent)).length;
  await rig.rtsp.stop();
  const lost = await waitFor(async () => (await stored(agent)).slice(before).find((r) => r.data.kind === 'camera.stream_lost'), { what: 'camera.stream_lost', timeoutMs: 20_000 });
  t.match(lost.data.payload, { everFlowed: true, code: /^ERR_/ }, 'with the decoder\'s reason');
  t.match(agent.cameraStates.get('CAM1'), { state: 'degraded', stream: 'lost', link: 'online' }, 'ONVIF still answers: degraded, not offline');
  t.match((await agent.health()).parts['camera:CAM1'], { state: 'degraded', reason: /^degraded/ });
  t.equal(await fps(), 0, 'the fps gauge drops to 0 instead of freezing at its last value');

  const beforeReturn = (await stored(agent)).length;
  await rig.rtsp.start();
  const restored = await waitFor(async () => (await stored(agent)).slice(beforeReturn).find((r) => r.data.kind === 'camera.stream_restored'), { what: 'camera.stream_restored', timeoutMs: 30_000 });
  t.ok(Number(restored.data.payload?.downMs) > 0);
  t.equal(agent.cameraStates.get('CAM1')?.state, 'online');
});

t.test('drill resolves each camera action against the camera\'s real presets', async (t) => {
  const [sim] = await startParts(t, new SimulatedOnvifCamera({ credentials: CREDS, snapshotFile: join(MEDIA_DIR, 'person.jpg'), rtspBase: 'rtsp://127.0.0.1:8554' }));
  const agent = await startAgent(t, {
    edge: { id: 'hub-drill', site: 'site-k' },
    devices: [FIRE_PANEL],
    cameras: [
      { id: 'CAM-OK', hostname: '127.0.0.1', port: sim.port, ...CREDS, tags: { covers: 'B1', fire_preset: 'gate' } },
      { id: 'CAM-TYPO', hostname: '127.0.0.1', port: sim.port, ...CREDS, tags: { covers: 'B1', fire_preset: 'FireExti' } },
    ],
  });
  const report = agent.linkage.drill('B1');
  const row = (camera: string) => report.actions.find((a) => a.device === camera && a.action.startsWith('goto_preset'));
  t.match(row('CAM-OK'), { online: true, note: '' });
  t.match(row('CAM-TYPO'), { online: true, note: /^ERROR: camera has no preset "FireExti" \(has home, gate, carpark\)/ }, 'the typo shows at drill time, not at alarm time');
  t.same(report.errors, [{ rule: 'fire-evacuation', device: 'CAM-TYPO', what: 'camera has no preset "FireExti" (has home, gate, carpark)' }]);
});
