/**
 * The demo community: two buildings, their fire panels (one per dialect), evacuation gates (one per
 * dialect), a car-park exit barrier, a wearable and an environment sensor. The same layout serves the
 * end-to-end test and the path benchmark.
 */
import type { EdgeDevice } from '@safe-community/edge-agent';

export const DEMO_SITE = 'sunrise-gardens';
export const DEMO_EDGE = 'hub-b1';

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
