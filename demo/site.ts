/**
 * The demo community: two buildings, their fire panels (one per dialect), evacuation gates (one per
 * dialect), a car-park exit barrier, a wearable and an environment sensor. The same layout serves the
 * end-to-end test and the path benchmark.
 */
import { fileURLToPath } from 'node:url';
import type { EdgeCamera, EdgeDevice } from '@safe-community/edge-agent';

/** Real test media (never committed): MEDIA_DIR, default ../shared/media beside the repository. */
export const MEDIA_DIR = process.env.MEDIA_DIR ?? fileURLToPath(new URL('../../shared/media', import.meta.url));

export const DEMO_SITE = 'sunrise-gardens';
/** The residents enrolled for elderly care (edge and cloud read the same file). */
export const DEMO_RESIDENTS_FILE = fileURLToPath(new URL('./residents.yaml', import.meta.url));
export const DEMO_EDGE = 'hub-b1';
/** The guard team of the demo's resident (residents.yaml: contacts[].team); the demo guard is in it. */
export const DEMO_GUARD_TEAM = 'guards-b2';

export const DEMO_DEVICES: EdgeDevice[] = [
  { id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } },
  { id: 'FP2', kind: 'fire_panel', profile: 'fire_panel.gst-hex', tags: { building: 'B2' } },
  { id: 'G1', kind: 'access_gate', profile: 'access_gate.acme-json', tags: { building: 'B1', role: 'evacuation_gate', zone: 'lobby' } },
  { id: 'G2', kind: 'access_gate', profile: 'access_gate.keyway-delim', tags: { building: 'B1', role: 'evacuation_gate', zone: 'courtyard' } },
  { id: 'G3', kind: 'access_gate', profile: 'access_gate.acme-json', tags: { building: 'B2', role: 'evacuation_gate', zone: 'lobby' } },
  { id: 'BR1', kind: 'car_barrier', profile: 'car_barrier.parkline-json', tags: { building: 'B1', role: 'exit_barrier' } },
  { id: 'W1', kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B2', resident: 'r-101' } },
  { id: 'S1', kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: { building: 'B1', zone: 'plant-room' } },
];

/**
 * The walkway camera of building B1: ONVIF on the simulated camera's port, on-edge analytics with a line
 * across the walkway (counts each direction) and the lawn as a zone (intrusion, loitering after 15 s).
 * Its tags make the fire rule turn it to the "gate" preset and take a snapshot.
 */
export function demoCamera(onvifPort: number): EdgeCamera {
  return {
    id: 'CAM1', hostname: '127.0.0.1', port: onvifPort, path: '/onvif/device_service',
    username: 'installer', password: 'demo-camera-pass', events: true, loop: false,
    tags: { building: 'B1', covers: 'B1', fire_preset: 'gate' },
    analytics: {
      fps: 5, motion: true,
      lines: [{ id: 'walkway', a: [0.45, 0.64], b: [0.45, 0.26], directions: { rightward: 'east', leftward: 'west' } }],
      zones: [{ id: 'lawn', polygon: [[0, 0.47], [0.2, 0.5], [0.4, 0.57], [0.55, 0.66], [0.7, 0.75], [0.85, 0.83], [1, 0.9], [1, 1], [0, 1]], minFrames: 3, loiterSeconds: 15 }],
      crowds: [{ id: 'walkway-crowd', threshold: 8, minFrames: 5 }],
    },
  };
}
