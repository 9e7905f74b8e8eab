/**
 * Decides which events and alarms get video evidence and from which cameras (issue #16, item 2). The agent
 * feeds it every event and alarm it sends up (the outbox is the one place all of them pass: devices,
 * cameras, video rules, linkage, care), so no source needs to know about clips.
 *
 * A trigger makes clips when its kind is listed (`fire.*`, `door.forced`…) or its severity reaches the
 * floor, and it is not one of the system's own alarms. The cameras are those that cover the place: the
 * trigger's own camera (a video rule, a camera event), and every recorded camera whose `covers` tag (a
 * comma-separated list) names the trigger's building or zone, as the linkage rules select cameras.
 *
 * One trigger, one clip per camera: the alarm the linkage raises for an event (its sourceEventId) is the same
 * trigger as the event. Repeats of the same kind from the same device while that camera's clip is still being
 * recorded (a panel reporting detector after detector, a door forced again) extend that clip to cover
 * them, up to `maxClipMs`, instead of making a pile of near-identical clips; other triggers get their own
 * clip even when the windows overlap, so each alarm has the clip that belongs to it.
 *
 * A linkage rule may also ask for clips (`camera: {select, clip: true}`): its `linkage.clip` event names the
 * camera and the trigger, and that camera gets a clip of the trigger whatever its kind.
 */
import { randomUUID } from 'node:crypto';
import { SEVERITY_RANK, type Alarm, type Event, type Severity, type Tags } from '@safe-community/contracts';
import { kindMatches } from '../linkage/match.js';
import type { OutboxInput } from '../ports.js';

export interface TriggerPolicy {
  kinds: readonly string[];
  minSeverity: Severity | null;
  ignore: readonly string[];
}

export interface PlannerOptions {
  /** The recorded cameras with their tags. */
  cameras: ReadonlyArray<{ id: string; tags: Readonly<Tags> }>;
  /** A device's tags (building, zone…) from the directory; undefined for an unknown device. */
  tagsOf: (device: string) => Readonly<Tags> | undefined;
  triggers: TriggerPolicy;
  preMs: number;
  postMs: number;
  /** Longest a clip may grow by folding repeats into it; default pre + post + 60 s. */
  maxClipMs?: number;
}

export interface Trigger {
  id: string;
  kind: string;
  device: string;
  severity: Severity;
  atMs: number;
  tags: Readonly<Tags>;
}

export interface ClipPlan {
  clip: string;
  camera: string;
  trigger: Trigger;
  fromMs: number;
  toMs: number;
}

export type PlanChange =
  | { type: 'new'; plan: ClipPlan }
  /** An open plan covers this trigger too: its end (or severity) moved. */
  | { type: 'extended'; plan: ClipPlan };

/** A linkage rule's `camera: {clip: true}` asks for a clip of that camera around its trigger. */
export const CLIP_REQUEST_KIND = 'linkage.clip';

/** The trigger a rule's clip request names (the camera is the request's device), or null. */
export function clipRequest(msg: OutboxInput): { trigger: Trigger; camera: string } | null {
  if (msg.type !== 'event' || (msg.data as Event).kind !== CLIP_REQUEST_KIND) return null;
  const e = msg.data as Event;
  const p = e.payload;
  if (typeof p.triggerEventId !== 'string' || typeof p.triggerKind !== 'string') return null;
  const at = typeof p.triggerAt === 'string' ? Date.parse(p.triggerAt) : Date.parse(e.edgeTime);
  return { camera: e.device, trigger: { id: p.triggerEventId, kind: p.triggerKind, device: e.device, severity: e.severity, atMs: at, tags: {} } };
}

/** The trigger an outbox record stands for, or null when it is neither an event nor an open alarm. */
export function triggerOf(msg: OutboxInput): Trigger | null {
  if (msg.type === 'event') {
    const e = msg.data as Event;
    return { id: e.id, kind: e.kind, device: e.device, severity: e.severity, atMs: Date.parse(e.edgeTime), tags: e.tags ?? {} };
  }
  if (msg.type === 'alarm') {
    const a = msg.data as Alarm;
    if (a.state !== 'open') return null;
    return { id: a.sourceEventId ?? a.id, kind: a.type, device: a.device, severity: a.severity, atMs: Date.parse(a.raisedAt), tags: a.tags ?? {} };
  }
  return null;
}

export class EvidencePlanner {
  private readonly open = new Map<string, ClipPlan>();
  /** trigger id + camera → the clip that covers it (so an alarm after its event adds nothing). */
  private readonly covered = new Map<string, { clip: string; atMs: number }>();
  private readonly maxClipMs: number;

  constructor(private readonly opts: PlannerOptions) {
    this.maxClipMs = opts.maxClipMs ?? opts.preMs + opts.postMs + 60_000;
  }

  wants(t: Trigger): boolean {
    const p = this.opts.triggers;
    if (kindMatches(p.ignore, t.kind)) return false;
    if (kindMatches(p.kinds, t.kind)) return true;
    return p.minSeverity !== null && SEVERITY_RANK[t.severity] >= SEVERITY_RANK[p.minSeverity];
  }

  /** The recorded cameras that see the trigger's place. */
  coveringCameras(t: Trigger): string[] {
    const own = this.opts.cameras.find((c) => c.id === t.device);
    if (own) return [own.id];
    const place = { ...(this.opts.tagsOf(t.device) ?? {}), ...t.tags };
    const where = [place.building, place.zone].filter((v): v is string => typeof v === 'string' && v.length > 0);
    if (where.length === 0) return [];
    return this.opts.cameras
      .filter((c) => (c.tags.covers ?? '').split(',').map((s) => s.trim()).some((v) => where.includes(v)))
      .map((c) => c.id);
  }

  /** What this record changes: new clips to make, or open ones that now reach further. */
  observe(msg: OutboxInput): PlanChange[] {
    const asked = clipRequest(msg);
    if (asked) {
      const known = this.opts.cameras.some((c) => c.id === asked.camera);
      return known && Number.isFinite(asked.trigger.atMs) ? this.plan(asked.trigger, [asked.camera]) : [];
    }
    const t = triggerOf(msg);
    if (!t || !Number.isFinite(t.atMs) || !this.wants(t)) return [];
    return this.plan(t, this.coveringCameras(t));
  }

  private plan(t: Trigger, cameras: readonly string[]): PlanChange[] {
    this.forget(t.atMs);
    const changes: PlanChange[] = [];
    for (const camera of cameras) {
      const key = `${t.id}|${camera}`;
      const known = this.covered.get(key);
      if (known) {
        const plan = this.open.get(known.clip);
        if (plan && SEVERITY_RANK[t.severity] > SEVERITY_RANK[plan.trigger.severity]) {
          plan.trigger = { ...plan.trigger, severity: t.severity };
          changes.push({ type: 'extended', plan });
        }
        continue;
      }
      const repeat = [...this.open.values()].find((p) => p.camera === camera && p.trigger.device === t.device && p.trigger.kind === t.kind && t.atMs <= p.toMs);
      if (repeat) {
        repeat.toMs = Math.min(Math.max(repeat.toMs, t.atMs + this.opts.postMs), repeat.fromMs + this.maxClipMs);
        this.covered.set(key, { clip: repeat.clip, atMs: t.atMs });
        changes.push({ type: 'extended', plan: repeat });
        continue;
      }
      const plan: ClipPlan = { clip: randomUUID(), camera, trigger: t, fromMs: t.atMs - this.opts.preMs, toMs: t.atMs + this.opts.postMs };
      this.open.set(plan.clip, plan);
      this.covered.set(key, { clip: plan.clip, atMs: t.atMs });
      changes.push({ type: 'new', plan });
    }
    return changes;
  }

  /** The clip is being cut: later repeats start a clip of their own. */
  close(clip: string): void {
    this.open.delete(clip);
  }

  /** Earliest wall time an open plan still needs from the ring. */
  holdFrom(camera: string): number | undefined {
    let min: number | undefined;
    for (const p of this.open.values()) if (p.camera === camera && (min === undefined || p.fromMs < min)) min = p.fromMs;
    return min;
  }

  private forget(nowMs: number): void {
    // An alarm follows its event within seconds; ten minutes of memory is plenty and keeps the map small.
    for (const [key, v] of this.covered) if (v.atMs < nowMs - 600_000) this.covered.delete(key);
  }
}
