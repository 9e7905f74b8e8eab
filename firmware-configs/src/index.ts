/** Vendor device profiles as data, their schema and loader, and the per-edge device list. */
import { fileURLToPath } from 'node:url';

export { Profile, ValueExpr, InboundRule, Codec, CommandTemplate, Template, HexField, KIND_CATALOG } from './schema.js';
export { telemetryMetric, profileMetrics, deviceMetrics } from './metrics.js';
export { loadProfiles, checkProfile, profileValidator, PROFILES_DIR } from './load.js';
export { DeviceConfig, DeviceList, deviceListValidator, checkDeviceList, loadDeviceList } from './devices.js';

/** The example device list used by the demo. */
export const EXAMPLE_DEVICES_FILE = fileURLToPath(new URL('../examples/devices.json', import.meta.url));
