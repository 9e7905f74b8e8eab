/**
 * Which devices are connected now, and who is told when that changes. A device's newest connection is the
 * one that counts: when a second connection of the same device takes over, the first one's close does not
 * mark the device offline. Listeners are called in order; one that throws is logged and the rest still run.
 */
import type { Logger } from '@safe-community/runtime';

export type PresenceListener = (deviceId: string, online: boolean) => void;

export class DevicePresence<C> {
  private readonly online = new Map<string, C>();
  private readonly listeners = new Set<PresenceListener>();

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.online.size;
  }

  isOnline(deviceId: string): boolean {
    return this.online.has(deviceId);
  }

  onChange(listener: PresenceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The device's connection is ready: it is online, through this connection. */
  connected(deviceId: string, connection: C): void {
    this.online.set(deviceId, connection);
    this.tell(deviceId, true);
  }

  /** A connection closed; true when the device went offline (false when a newer connection took over). */
  closed(deviceId: string, connection: C): boolean {
    if (this.online.get(deviceId) !== connection) return false;
    this.online.delete(deviceId);
    this.tell(deviceId, false);
    return true;
  }

  /** Forgets every connection without telling anyone (the broker stopped; status is rewritten at start). */
  clear(): void {
    this.online.clear();
  }

  private tell(deviceId: string, online: boolean): void {
    for (const l of this.listeners) {
      try {
        l(deviceId, online);
      } catch (err) {
        this.log.error({ device: deviceId, err }, 'device status listener threw');
      }
    }
  }
}
