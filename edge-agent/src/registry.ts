/**
 * Devices provisioned from the CLI (`edge-agent provision device …`), kept beside their credentials in the
 * data folder so an installer need not edit the config file. The agent serves the config's devices plus
 * these; an id in both is an error that names it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { DeviceKind, validator } from '@safe-community/contracts';
import { CodedError, writeAtomic } from '@safe-community/runtime';
import type { DeviceInfo } from './ports.js';

const RegistryFile = Type.Object({
  version: Type.Literal(1),
  devices: Type.Array(Type.Object({
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 64 }),
    kind: DeviceKind,
    profile: Type.String({ minLength: 1 }),
    tags: Type.Record(Type.String(), Type.String()),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
const check = validator('device registry', RegistryFile);

export const registryPath = (dataDir: string): string => join(dataDir, 'devices.json');

export async function readRegistry(dataDir: string): Promise<DeviceInfo[]> {
  let text: string;
  try {
    text = await readFile(registryPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CodedError('ERR_REGISTRY', `cannot read ${registryPath(dataDir)}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CodedError('ERR_REGISTRY', `${registryPath(dataDir)} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return check.assert(parsed).devices;
}

/** Adds or replaces one device; written atomically so a crash leaves the old file whole. */
export async function upsertRegistry(dataDir: string, device: DeviceInfo): Promise<void> {
  const devices = (await readRegistry(dataDir)).filter((d) => d.id !== device.id);
  devices.push(device);
  devices.sort((a, b) => a.id.localeCompare(b.id));
  await writeAtomic(registryPath(dataDir), `${JSON.stringify({ version: 1, devices }, null, 2)}\n`);
}

export async function removeFromRegistry(dataDir: string, id: string): Promise<boolean> {
  const devices = await readRegistry(dataDir);
  const kept = devices.filter((d) => d.id !== id);
  if (kept.length === devices.length) return false;
  await writeAtomic(registryPath(dataDir), `${JSON.stringify({ version: 1, devices: kept }, null, 2)}\n`);
  return true;
}

/** Config devices plus provisioned ones; the same id in both is a configuration error. */
export function mergeDevices(fromConfig: readonly DeviceInfo[], provisioned: readonly DeviceInfo[]): DeviceInfo[] {
  const ids = new Set(fromConfig.map((d) => d.id));
  for (const d of provisioned) {
    if (ids.has(d.id)) throw new CodedError('ERR_CONFIG', `device ${d.id} is both in the config file and provisioned in devices.json; remove one`);
  }
  return [...fromConfig, ...provisioned];
}
