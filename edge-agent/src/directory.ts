/**
 * The linkage engine's view of every device on the edge: MQTT devices from the gateway, plus cameras (kind
 * `camera`, profile `onvif`), whose online state comes from their ONVIF link. Rules select cameras by tags
 * (e.g. covers=B1) the same way they select gates.
 */
import type { DeviceKind, Tags } from '@safe-community/contracts';
import type { DeviceDirectory, DeviceInfo } from './ports.js';

export interface CameraDirectoryEntry {
  id: string;
  tags: Tags;
}

export class CompositeDirectory implements DeviceDirectory {
  private readonly cameras: Map<string, DeviceInfo>;

  constructor(
    private readonly devices: DeviceDirectory,
    cameras: readonly CameraDirectoryEntry[],
    private readonly cameraOnline: (id: string) => boolean,
  ) {
    this.cameras = new Map(cameras.map((c) => [c.id, { id: c.id, kind: 'camera' as const, profile: 'onvif', tags: { ...c.tags } }]));
  }

  list(filter?: { kind?: DeviceKind; tags?: Partial<Tags> }): DeviceInfo[] {
    const own = [...this.cameras.values()].filter((d) => {
      if (filter?.kind && d.kind !== filter.kind) return false;
      return Object.entries(filter?.tags ?? {}).every(([k, v]) => v === undefined || d.tags[k] === v);
    });
    return filter?.kind === 'camera' ? own : [...this.devices.list(filter), ...own];
  }

  get(id: string): DeviceInfo | undefined {
    return this.cameras.get(id) ?? this.devices.get(id);
  }

  online(id: string): boolean {
    return this.cameras.has(id) ? this.cameraOnline(id) : this.devices.online(id);
  }

  state(id: string): Readonly<Record<string, unknown>> {
    return this.cameras.has(id) ? {} : this.devices.state(id);
  }
}
