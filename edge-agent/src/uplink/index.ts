export { Uplink, type UplinkOptions, type UplinkMetrics, type UplinkSource } from './uplink.js';
export { parseDown, envelopeJson, type DownParse } from './down.js';
