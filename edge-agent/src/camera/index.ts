/**
 * ONVIF cameras for the edge agent: discovery, one session per camera, events turned into canonical
 * events, and the CameraPort the linkage engine calls (goto preset, snapshot → stored reference).
 */
export { CameraManager, type CameraManagerOptions } from './camera-manager.js';
export { CameraLink, type CameraConfig, type LinkStatus, type CameraLinkDeps } from './camera-link.js';
export { OnvifSession, type OnvifSessionOptions, type CameraEndpoint, type DeviceInformation, type MediaProfile, type Preset, type PtzPosition, type PtzStatus } from './onvif-session.js';
export { probe, parseProbeMatch, parseProbeMatches, WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT, type ProbeOptions, type DiscoveredCamera } from './discovery.js';
export { mapNotification, type CameraSignal, type SignalKind } from './event-mapper.js';
export { SignalState, type SignalChange } from './signal-state.js';
export { FileSnapshotStore, type SnapshotStore, type FileSnapshotStoreOptions } from './snapshot-store.js';
export * from './errors.js';
export { CameraStateBoard, type CameraState, type CameraHealth, type StreamState, type EventsState } from './camera-state.js';
export { chooseProfile, ANALYTICS_INPUT, type ProfileRole, type ProfileChoice } from './profile-roles.js';
export { confirmPreset, CAMERA_PTZ_NOT_CONFIRMED, type GotoConfirmation } from './ptz-readback.js';
