/**
 * The seams inside the edge agent. Each part depends on these small interfaces, not on the others'
 * classes, so the broker/adapters, the linkage engine and the outbox/uplink can be built and tested
 * alone and wired in one place (agent.ts).
 */
import type { Command, CommandResult, DeviceKind, Tags, UplinkMessage, Event, Alarm } from '@safe-community/contracts';

/** An uplink record before the outbox gives it a sequence. */
export type OutboxInput = UplinkMessage extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

/** Where every canonical message goes to travel to the cloud. `append` resolves once the record is durable. */
export interface UplinkSink {
  append(msg: OutboxInput): Promise<number>;
}

/** A device known to this edge, from provisioning/config. */
export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  /** Vendor profile id in firmware-configs, e.g. `gate.acme-json`. */
  profile: string;
  /** building, zone, group, role (e.g. role=evacuation_gate, role=exit_barrier)… used by rule filters. */
  tags: Tags;
}

/** Live view of devices: what exists, and what each last reported. */
export interface DeviceDirectory {
  list(filter?: { kind?: DeviceKind; tags?: Partial<Tags> }): DeviceInfo[];
  get(id: string): DeviceInfo | undefined;
  online(id: string): boolean;
  /** Last known state fields (e.g. { door: 'held_open' }) from status/read-back. */
  state(id: string): Readonly<Record<string, unknown>>;
}

/** Read-back of a command: the device's acknowledgement or a status change that proves it acted. */
export interface ReadBack {
  commandId: string;
  device: string;
  ok: boolean;
  detail?: string;
  /** performance.now() when the read-back arrived at the edge. */
  at: number;
}

/** Sends canonical commands to devices in their vendor's dialect and reports read-backs. */
export interface CommandPort {
  /** Publishes the command to the device; resolves when handed to the broker. */
  send(cmd: Command): Promise<void>;
  /** Subscribes to read-backs; returns an unsubscribe function. */
  onReadBack(listener: (rb: ReadBack) => void): () => void;
}

/** Canonical events from devices (after the adapters) and from analytics, for the linkage engine. */
export interface EventSource {
  onEvent(listener: (event: Event) => void): () => void;
}

/** Camera actions the linkage engine can call; the camera part implements it over ONVIF. */
export interface CameraPort {
  /** Resolves once the camera is at the preset ('position': read back; 'answer': the camera cannot say where it is). */
  gotoPreset(camera: string, preset: string): Promise<unknown>;
  /** Takes a snapshot and returns a reference to the stored (face-blurred) image. */
  snapshot(camera: string): Promise<{ ref: string }>;
  /** The camera's presets as last read from it; undefined while it has not been reached (or has no PTZ). */
  knownPresets?(camera: string): ReadonlyArray<{ token: string; name: string }> | undefined;
}

export type { Command, CommandResult, Alarm };
