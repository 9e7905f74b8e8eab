/** Device adapters and the DeviceGateway (DeviceDirectory + CommandPort + EventSource over the edge broker). */
export { DeviceGateway } from './gateway.js';
export type { DeviceGatewayOptions } from './gateway.js';
export { ProfileAdapter } from './profile-adapter.js';
export type { Decoded, DecodedReadBack, AdapterContext } from './profile-adapter.js';
export { DecodeError, EncodeError, decodeFields, encodePayload } from './codecs.js';
export { loadProfiles, PROFILES_DIR } from '@safe-community/firmware-configs';
