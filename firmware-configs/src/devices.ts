/**
 * The device list of one edge: which devices exist, which profile each speaks, and the tags rules filter
 * on. Passwords are not part of it: `provision` creates them on the edge and stores only their hashes.
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { DeviceKind, Id, Tags, validator } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import type { Profile } from './schema.js';

export const DeviceConfig = Type.Object(
  {
    id: Id,
    kind: DeviceKind,
    profile: Type.String({ minLength: 1, description: 'profile id, e.g. access_gate.acme-json' }),
    tags: Tags,
  },
  { additionalProperties: false },
);
export type DeviceConfig = Static<typeof DeviceConfig>;

export const DeviceList = Type.Object(
  { site: Id, edge: Id, devices: Type.Array(DeviceConfig) },
  { additionalProperties: false, $id: 'DeviceList' },
);
export type DeviceList = Static<typeof DeviceList>;

export const deviceListValidator = validator('DeviceList', DeviceList);

/** Validates a device list against the schema and the known profiles (exists, same kind, unique ids). */
export function checkDeviceList(value: unknown, profiles: ReadonlyMap<string, Profile>): DeviceList {
  const list = deviceListValidator.assert(value);
  const seen = new Set<string>();
  for (const d of list.devices) {
    if (seen.has(d.id)) throw new CodedError('ERR_DUPLICATE_DEVICE', `device ${d.id} is listed twice`);
    seen.add(d.id);
    const p = profiles.get(d.profile);
    if (!p) throw new CodedError('ERR_UNKNOWN_PROFILE', `device ${d.id}: no profile "${d.profile}"`);
    if (p.kind !== d.kind) throw new CodedError('ERR_PROFILE_KIND', `device ${d.id} is a ${d.kind} but ${d.profile} is for ${p.kind}`);
  }
  return list;
}

export async function loadDeviceList(path: string, profiles: ReadonlyMap<string, Profile>): Promise<DeviceList> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new CodedError('ERR_DEVICE_LIST_READ', `cannot read device list ${path}`, { cause: err });
  }
  return checkDeviceList(value, profiles);
}
