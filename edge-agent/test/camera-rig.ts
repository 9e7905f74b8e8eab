/**
 * The camera tests' set-up: a simulated ONVIF camera (real SOAP over HTTP on 127.0.0.1) and a CameraManager
 * on a temporary snapshot folder with short test timings, both stopped when the test ends, and the events
 * the manager emits collected.
 */
import { join } from 'node:path';
import type { Event } from '@safe-community/contracts';
import { MEDIA_DIR, startParts, tempDir, type Teardown } from '@safe-community/testkit';
import { SimulatedOnvifCamera, type SimulatedCameraOptions } from '@safe-community/simulators/camera';
import { CameraManager, FileSnapshotStore, type CameraConfig, type CameraManagerOptions } from '../src/camera/index.js';

export const CREDS = { username: 'installer', password: 's3cret-Pass' };
export const SNAPSHOT_FILE = join(MEDIA_DIR, 'person.jpg');

/** A started simulated camera with the test credentials and snapshot. */
export async function startCamera(t: Teardown, extra: Partial<SimulatedCameraOptions> = {}): Promise<SimulatedOnvifCamera> {
  const [sim] = await startParts(t, new SimulatedOnvifCamera({ credentials: CREDS, snapshotFile: SNAPSHOT_FILE, rtspBase: 'rtsp://127.0.0.1:8554', ...extra }));
  return sim;
}

/** The config of a camera at the simulator's port with the test credentials. */
export const cameraConfig = (sim: SimulatedOnvifCamera, over: Partial<CameraConfig> = {}): CameraConfig => ({
  id: 'cam-1', hostname: '127.0.0.1', port: sim.port, ...CREDS, ...over,
});

export interface ManagerSetup extends Partial<Omit<CameraManagerOptions, 'cameras' | 'snapshots'>> {
  /** Runs on each stored snapshot (the privacy filter's place). */
  redact?: (jpeg: Buffer) => Promise<Buffer>;
}

/** A started CameraManager for `cameras` (site-1, edge-1, fast backoff, 2 s timeouts), with its events collected. */
export async function startManager(t: Teardown, cameras: CameraConfig[], setup: ManagerSetup = {}) {
  const { redact, ...over } = setup;
  const store = new FileSnapshotStore({ dir: await tempDir(t, 'cam-snap-'), ...(redact ? { redact } : {}) });
  const m = new CameraManager({
    site: 'site-1', edge: 'edge-1', cameras, snapshots: store,
    backoff: { initialMs: 50, maxMs: 300 }, timeoutMs: 2000, onlineHoldMs: 100, ...over,
  });
  const events: Event[] = [];
  m.onEvent((e) => events.push(e));
  await m.start();
  t.teardown(() => m.stop());
  return { m, events, store };
}
