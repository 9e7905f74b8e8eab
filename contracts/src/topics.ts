/**
 * MQTT topic names, on both sides. Builders and parsers live together so the two can never drift.
 *
 * Device side (the edge broker): every topic a device may use starts with `devices/<deviceId>/`, which is
 * what makes a per-device ACL a prefix check. What follows the prefix is the vendor profile's business
 * (e.g. `devices/G1/evt`, `devices/FP1/up`), except the reserved names below.
 *
 * Edge↔cloud side (the cloud broker): `edges/<edgeId>/uplink` carries Envelopes up (QoS 1);
 * `edges/<edgeId>/down` carries Commands and config down.
 */
import { ContractError } from './errors.js';
import { ID_RE } from './common.js';

export const DEVICE_ROOT = 'devices';
export const EDGE_ROOT = 'edges';
/** Retained `online`/`offline`, set by the broker on connect and by the last will. */
export const DEVICE_STATUS_SUFFIX = 'status';


function checkId(what: string, id: string): string {
  if (!ID_RE.test(id)) {
    throw new ContractError('ERR_TOPIC_ID', `${what} "${id}" is not a valid topic id (letters, digits, . _ -, at most 64)`);
  }
  return id;
}

export const deviceTopic = (deviceId: string, suffix: string): string => {
  if (suffix.length === 0 || /[#+]/.test(suffix)) throw new ContractError('ERR_TOPIC_SUFFIX', `bad topic suffix "${suffix}"`);
  return `${DEVICE_ROOT}/${checkId('device id', deviceId)}/${suffix}`;
};
export const deviceStatusTopic = (deviceId: string): string => deviceTopic(deviceId, DEVICE_STATUS_SUFFIX);

export interface ParsedDeviceTopic {
  device: string;
  suffix: string;
}

/** Splits `devices/<id>/<suffix…>`; null when the topic is not a device topic. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const parts = topic.split('/');
  if (parts.length < 3 || parts[0] !== DEVICE_ROOT) return null;
  const device = parts[1]!;
  if (!ID_RE.test(device)) return null;
  return { device, suffix: parts.slice(2).join('/') };
}

export const edgeUplinkTopic = (edgeId: string): string => `${EDGE_ROOT}/${checkId('edge id', edgeId)}/uplink`;
export const edgeDownTopic = (edgeId: string): string => `${EDGE_ROOT}/${checkId('edge id', edgeId)}/down`;
/** What an ingest instance subscribes to; the shared group splits edges' batches between instances (MQTT 5 §4.8.2). */
export const uplinkSubscription = (group?: string): string =>
  group ? `$share/${checkId('share group', group)}/${EDGE_ROOT}/+/uplink` : `${EDGE_ROOT}/+/uplink`;

export interface ParsedEdgeTopic {
  edge: string;
  channel: 'uplink' | 'down';
}

export function parseEdgeTopic(topic: string): ParsedEdgeTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== EDGE_ROOT) return null;
  const edge = parts[1]!;
  const channel = parts[2];
  if (!ID_RE.test(edge) || (channel !== 'uplink' && channel !== 'down')) return null;
  return { edge, channel };
}
