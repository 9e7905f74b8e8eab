/**
 * Small in-test implementations of the agent's ports that behave like devices on real timers: a device
 * acknowledges after N ms, never, only from its Nth attempt, rejects, or is offline. Shared by the
 * linkage test files.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Alarm, Command, CommandResult, DeviceKind, Event, LinkageExecution, Severity } from '@safe-community/contracts';
import { createLogger } from '@safe-community/runtime';
import type { CameraPort, CommandPort, DeviceDirectory, DeviceInfo, EventSource, OutboxInput, ReadBack, UplinkSink } from '../src/ports.js';

export const silentLog = createLogger({ level: 'silent' });

export interface Behaviour {
  /** Read-back delay, ms (default 2). */
  ackAfterMs?: number;
  /** Never answers. */
  never?: boolean;
  /** Answers only from this attempt on (1-based). */
  ackFromAttempt?: number;
  /** Answers ok: false. */
  reject?: boolean;
  /** Reported offline by the directory and never answers. */
  offline?: boolean;
  /** send() throws for the first N attempts (broker refused the publish). */
  sendFailures?: number;
}

interface SimDevice {
  info: DeviceInfo;
  behaviour: Behaviour;
  state: Record<string, unknown>;
  attempts: Map<string, number>;
}

/** Devices: the directory, the command port and the devices' behaviour in one. */
export class FakeDevices implements DeviceDirectory, CommandPort {
  readonly devices = new Map<string, SimDevice>();
  readonly sent: Array<{ cmd: Command; at: number }> = [];
  private readonly listeners = new Set<(rb: ReadBack) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();

  add(id: string, kind: DeviceKind, tags: Record<string, string>, behaviour: Behaviour = {}): this {
    this.devices.set(id, { info: { id, kind, profile: `${kind}.test`, tags }, behaviour, state: {}, attempts: new Map() });
    return this;
  }

  behave(id: string, behaviour: Behaviour): void {
    const d = this.devices.get(id);
    if (d) d.behaviour = behaviour;
  }

  list(filter?: { kind?: DeviceKind; tags?: Partial<Record<string, string>> }): DeviceInfo[] {
    return [...this.devices.values()]
      .map((d) => d.info)
      .filter((d) => (!filter?.kind || d.kind === filter.kind) && Object.entries(filter?.tags ?? {}).every(([k, v]) => d.tags[k] === v));
  }

  get(id: string): DeviceInfo | undefined {
    return this.devices.get(id)?.info;
  }

  online(id: string): boolean {
    const d = this.devices.get(id);
    return !!d && !d.behaviour.offline;
  }

  state(id: string): Readonly<Record<string, unknown>> {
    return this.devices.get(id)?.state ?? {};
  }

  setState(id: string, state: Record<string, unknown>): void {
    const d = this.devices.get(id);
    if (d) d.state = state;
  }

  async send(cmd: Command): Promise<void> {
    const d = this.devices.get(cmd.device);
    const attempt = (d?.attempts.get(cmd.id) ?? 0) + 1;
    d?.attempts.set(cmd.id, attempt);
    if (d?.behaviour.sendFailures && attempt <= d.behaviour.sendFailures) throw new Error('broker refused publish');
    this.sent.push({ cmd, at: performance.now() });
    if (!d || d.behaviour.offline || d.behaviour.never) return;
    if (d.behaviour.ackFromAttempt && attempt < d.behaviour.ackFromAttempt) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!d.behaviour.reject) d.state = { ...d.state, last: cmd.action };
      const rb: ReadBack = { commandId: cmd.id, device: cmd.device, ok: !d.behaviour.reject, at: performance.now(), ...(d.behaviour.reject ? { detail: 'device refused' } : {}) };
      for (const l of this.listeners) l(rb);
    }, d.behaviour.ackAfterMs ?? 2);
    this.timers.add(timer);
  }

  onReadBack(listener: (rb: ReadBack) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Emits a read-back by hand (e.g. a device-only status change). */
  readBack(rb: Omit<ReadBack, 'at'>): void {
    for (const l of this.listeners) l({ ...rb, at: performance.now() });
  }

  sentTo(id: string): Command[] {
    return this.sent.filter((s) => s.cmd.device === id).map((s) => s.cmd);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export class FakeEvents implements EventSource {
  private readonly listeners = new Set<(e: Event) => void>();
  onEvent(listener: (e: Event) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Emits anything, malformed included: the engine must survive what a broken adapter could hand it. */
  emit(e: unknown): void {
    for (const l of this.listeners) l(e as Event);
  }
  get count(): number {
    return this.listeners.size;
  }
}

interface DataOf {
  event: Event;
  alarm: Alarm;
  command_result: CommandResult;
  linkage: LinkageExecution;
}

export class MemorySink implements UplinkSink {
  readonly records: OutboxInput[] = [];
  failNext = 0;
  async append(msg: OutboxInput): Promise<number> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('outbox full');
    }
    this.records.push(msg);
    return this.records.length;
  }
  of<K extends keyof DataOf>(type: K): Array<DataOf[K]> {
    return this.records.filter((r) => r.type === type).map((r) => r.data as DataOf[K]);
  }
}

export class FakeCameras implements CameraPort {
  readonly calls: string[] = [];
  failing = new Set<string>();
  async gotoPreset(camera: string, preset: string): Promise<void> {
    this.calls.push(`${camera}:goto:${preset}`);
    if (this.failing.has(camera)) throw new Error('ONVIF fault');
  }
  async snapshot(camera: string): Promise<{ ref: string }> {
    this.calls.push(`${camera}:snapshot`);
    if (this.failing.has(camera)) throw new Error('ONVIF fault');
    return { ref: `snapshots/${camera}/1.jpg` };
  }
}

export function event(kind: string, device: string, opts: { tags?: Record<string, string>; payload?: Record<string, unknown>; severity?: Severity; site?: string } = {}): Event {
  const e: Event = {
    id: randomUUID(),
    site: opts.site ?? 'site1',
    edge: 'edge1',
    device,
    kind,
    severity: opts.severity ?? 'critical',
    edgeTime: new Date().toISOString(),
    payload: opts.payload ?? {},
  };
  if (opts.tags) e.tags = opts.tags;
  return e;
}

/** A community: building A and B, each with a panel, evacuation gates, an ordinary gate and a camera; two car-park exits. */
export function community(behaviours: Record<string, Behaviour> = {}): FakeDevices {
  const d = new FakeDevices();
  const b = (id: string) => behaviours[id] ?? {};
  d.add('P-A', 'fire_panel', { building: 'A' }, b('P-A'));
  d.add('P-B', 'fire_panel', { building: 'B' }, b('P-B'));
  d.add('G1', 'access_gate', { building: 'B', role: 'evacuation_gate' }, b('G1'));
  d.add('G2', 'access_gate', { building: 'B', role: 'evacuation_gate' }, b('G2'));
  d.add('G3', 'access_gate', { building: 'B', role: 'evacuation_gate' }, b('G3'));
  d.add('G4', 'access_gate', { building: 'B', role: 'entrance' }, b('G4'));
  d.add('GA1', 'access_gate', { building: 'A', role: 'evacuation_gate' }, b('GA1'));
  d.add('CB1', 'car_barrier', { role: 'exit_barrier' }, b('CB1'));
  d.add('CB2', 'car_barrier', { role: 'exit_barrier' }, b('CB2'));
  d.add('CB3', 'car_barrier', { role: 'entry_barrier' }, b('CB3'));
  d.add('CAM-B', 'camera', { covers: 'B', fire_preset: 'fire-B' }, b('CAM-B'));
  d.add('CAM-A', 'camera', { covers: 'A', fire_preset: 'fire-A' }, b('CAM-A'));
  d.add('W1', 'wearable', { building: 'B' }, b('W1'));
  return d;
}
