export { Uplink, type UplinkOptions, type UplinkMetrics, type UplinkSource } from './uplink.js';
export { parseDown, type DownParse } from './down.js';
export { envelopeJson } from './envelope-v2.js';
