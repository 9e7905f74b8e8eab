/**
 * '@safe-community/simulators/camera': a simulated ONVIF camera (SOAP over HTTP), its WS-Discovery
 * responder and an RTSP source that loops a real video.
 */
export { SimulatedOnvifCamera, type SimulatedCameraOptions } from './onvif-camera.js';
export { DiscoveryResponder, WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT, type DiscoveryResponderOptions } from './discovery-responder.js';
export { RtspLoopSource, rewriteSdp, type RtspSourceOptions } from './rtsp-source.js';
export { UsernameTokenVerifier, durationMs, type Credentials } from './soap.js';
export type { DeviceIdentity, SimProfile, SimPreset } from './responses.js';
export type { CameraNotification } from './pull-point.js';
export { NORMAL_CAMERA, type CameraQuirks } from './quirks.js';
export { CameraRig, type CameraRigOptions } from './rig.js';
