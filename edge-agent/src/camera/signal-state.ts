/**
 * Keeps the on/off state of each camera signal and reports only changes. Motion that the camera never
 * ends (some cameras send "motion started" and nothing after) is ended here after `motionStopTimeoutMs`
 * without a fresh start; every repeated start re-arms the timer, so continuous motion stays on.
 */
import type { Clock } from '@safe-community/runtime';
import type { CameraSignal } from './event-mapper.js';

export interface SignalChange {
  signal: CameraSignal;
  /** 'camera': the camera said so; 'timeout': no stop came and the timeout ended it; 'offline': the link dropped. */
  reason: 'camera' | 'timeout' | 'offline';
}

export class SignalState {
  private readonly active = new Map<string, CameraSignal>();
  private readonly timers = new Map<string, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly motionStopTimeoutMs: number,
    private readonly emit: (change: SignalChange) => void,
  ) {}

  apply(signal: CameraSignal): void {
    const key = keyOf(signal);
    const wasActive = this.active.has(key);
    if (signal.active) {
      this.active.set(key, signal);
      if (signal.kind === 'motion') this.arm(key, signal);
      if (!wasActive) this.emit({ signal, reason: 'camera' });
      return;
    }
    this.disarm(key);
    if (!wasActive) return;
    this.active.delete(key);
    this.emit({ signal, reason: 'camera' });
  }

  /** Ends every active signal with a change each (the link dropped: nobody can see the end any more). */
  endAll(reason: SignalChange['reason']): void {
    const ended = [...this.active.values()];
    this.clear();
    for (const signal of ended) this.emit({ signal: { ...signal, active: false, deviceTime: undefined }, reason });
  }

  /** Forgets every active signal without emitting (shutting down). */
  clear(): void {
    for (const key of [...this.timers.keys()]) this.disarm(key);
    this.active.clear();
  }

  isActive(kind: CameraSignal['kind']): boolean {
    for (const s of this.active.values()) if (s.kind === kind) return true;
    return false;
  }

  private arm(key: string, started: CameraSignal): void {
    this.disarm(key);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      if (!this.active.delete(key)) return;
      this.emit({ signal: { ...started, active: false, deviceTime: undefined }, reason: 'timeout' });
    }, this.motionStopTimeoutMs);
    this.timers.set(key, handle);
  }

  private disarm(key: string): void {
    const h = this.timers.get(key);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.timers.delete(key);
  }
}

/**
 * One state per topic and source. Firmwares that publish both VideoSource/MotionAlarm and
 * RuleEngine/CellMotionDetector/Motion for the same picture would otherwise share one motion state, and
 * each topic's Initialized message on a new subscription would turn the other's "on" off (issue #14).
 */
function keyOf(s: CameraSignal): string {
  const src = Object.entries(s.source).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join('&');
  return `${s.kind}|${s.topic}|${src}`;
}
