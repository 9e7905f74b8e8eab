/**
 * One execution of one rule for one trigger: fan the actions out in parallel (all device commands are
 * handed to the command port before anything is awaited), collect per-action timings, write the audit
 * records (LinkageExecution, CommandResult, alarms) to the sink, and raise `linkage.failed` for every
 * device that did not confirm. Never throws: a failing action is a recorded outcome.
 */
import { randomUUID } from 'node:crypto';
import type { Alarm, Command, CommandResult, Event, LinkageAction, LinkageExecution, Severity } from '@safe-community/contracts';
import type { Clock, Logger } from '@safe-community/runtime';
import type { CameraPort, DeviceDirectory, DeviceInfo, OutboxInput, UplinkSink } from '../ports.js';
import { DEFAULT_RETRY, type Actuator, type Outcome, type RetrySettings } from './actuator.js';
import { DEFAULT_REFUSE, type HoldStore, type Latch } from './holds.js';
import { fillTemplate, scopeKey, selectDevices, type TriggerContext } from './match.js';
import { LIFE_SAFETY_PRIORITY, type Action, type Retry, type Rule } from './schema.js';

export interface RunnerDeps {
  devices: DeviceDirectory;
  cameras: CameraPort | undefined;
  sink: UplinkSink;
  holds: HoldStore;
  actuator: Actuator;
  clock: Clock;
  hr: () => number;
  log: Logger;
  rules: () => ReadonlyMap<string, Rule>;
  onNotice: (text: string, ctx: TriggerContext) => void;
  counters: { refused: number; failedActions: number; sinkErrors: number };
}

/** The execution record plus what the demo and the drill want to print about it. */
export interface ExecutionReport {
  execution: LinkageExecution;
  trigger?: Event;
  /** Snapshot references by camera id. */
  snapshots: Record<string, string>;
  /** Why actions were refused or failed, by commandId. */
  details: Record<string, string>;
}

type Notes = Pick<ExecutionReport, 'snapshots' | 'details'>;

interface Site {
  site: string;
  edge: string;
}

/** One device command of an execution. */
interface CommandJob {
  ruleId: string;
  priority: number;
  where: Site;
  device: DeviceInfo;
  action: string;
  params: Record<string, unknown>;
  retry: Retry | undefined;
  /** When the trigger arrived (hr clock). */
  startHr: number;
  signal: AbortSignal;
  triggerEventId: string;
  notes: Notes;
}

export class ExecutionRunner {
  constructor(private readonly d: RunnerDeps) {}

  /** Runs `rule` for the trigger. `startHr` is when the trigger arrived. */
  async run(rule: Rule, ctx: TriggerContext, startHr: number, signal: AbortSignal): Promise<ExecutionReport> {
    const startedAt = this.iso();
    const where: Site = { site: ctx.event.site, edge: ctx.event.edge };
    const notes: Notes = { snapshots: {}, details: {} };
    const tasks: Array<Promise<LinkageAction[]>> = [];
    let latch: Latch | undefined;
    let latchChanged = false;
    const later: Array<() => Promise<LinkageAction[]>> = [];

    // 1. Device commands first, all of them, before any await: the fire rule's commands leave together.
    for (const action of rule.actions) {
      if ('command' in action) {
        const sel = selectDevices(action.command.select, ctx, this.d.devices);
        if (sel.missing.length) later.push(() => this.missingAlarm(rule, ctx, sel.missing));
        for (const device of sel.devices) {
          const refusal = this.d.holds.refusal(device.id, action.command.action);
          if (refusal) {
            tasks.push(this.refuse(rule, where, device.id, action.command.action, startHr, `refused: ${device.id} is held (${refusal.hold.action}) by ${refusal.latch.rule} since ${refusal.latch.since}`, notes));
            continue;
          }
          if (action.command.hold && rule.latch) {
            latch ??= this.d.holds.activate({ key: scopeKey(rule, ctx), rule: rule.id, site: where.site, edge: where.edge, scope: scopeValues(rule, ctx), triggerEventId: ctx.event.id, since: startedAt });
            this.d.holds.addHold(latch, device.id, {
              action: action.command.action,
              params: { ...(action.command.params ?? {}) },
              release: action.command.hold.release ?? 'release',
              refuse: [...(action.command.hold.refuse ?? DEFAULT_REFUSE)],
            });
            latchChanged = true;
          }
          const { action: verb, params, retry } = action.command;
          tasks.push(this.command({ ruleId: rule.id, priority: rule.priority, where, device, action: verb, params: params ?? {}, retry, startHr, signal, triggerEventId: ctx.event.id, notes }));
        }
      } else if ('release' in action) {
        tasks.push(this.release(rule, action.release.latch, action.release.retry, ctx, startHr, signal, notes));
      }
    }
    // 2. Alarms, notices and cameras: not on the life-safety critical path of the commands above.
    for (const action of rule.actions) {
      if ('alarm' in action || 'notice' in action || 'camera' in action) tasks.push(this.other(action, rule, ctx, startHr, signal, notes));
    }
    for (const f of later) tasks.push(f());
    if (latchChanged) {
      // The hold intent is durable before we wait for read-backs, so a crash now still re-asserts on start.
      tasks.push(this.d.holds.save().then(() => [], (err: unknown) => this.logged(err, 'linkage state not saved')));
    }
    const actions = (await Promise.all(tasks)).flat();
    const execution = this.finish(rule.id, where, ctx.event.id, startedAt, actions);
    await this.append({ type: 'linkage', data: execution });
    return { execution, trigger: ctx.event, ...notes };
  }

  /** After a restart: sends every hold of a latch again, as an execution of the latch's rule. */
  async reassert(latch: Latch, startHr: number, signal: AbortSignal): Promise<ExecutionReport> {
    const startedAt = this.iso();
    const where: Site = { site: latch.site, edge: latch.edge };
    const notes: Notes = { snapshots: {}, details: {} };
    const rule = this.d.rules().get(latch.rule);
    const tasks = Object.entries(latch.holds).map(([id, hold]) => {
      const device = this.d.devices.get(id) ?? ({ id, kind: 'access_gate', profile: 'unknown', tags: {} } as DeviceInfo);
      return this.command({ ruleId: latch.rule, priority: rule?.priority ?? 100, where, device, action: hold.action, params: hold.params, retry: retryOf(rule, hold.action), startHr, signal, triggerEventId: latch.triggerEventId, notes });
    });
    const actions = (await Promise.all(tasks)).flat();
    const execution = this.finish(latch.rule, where, latch.triggerEventId, startedAt, actions);
    await this.append({ type: 'linkage', data: execution });
    return { execution, ...notes };
  }

  private async command(job: CommandJob): Promise<LinkageAction[]> {
    const { ruleId, priority, where, device, action, params, retry, startHr, signal, triggerEventId, notes } = job;
    const cmd: Command = {
      id: randomUUID(),
      site: where.site,
      edge: where.edge,
      device: device.id,
      action,
      params,
      issuedAt: this.iso(),
      issuedBy: `linkage:${ruleId}`,
      timeoutMs: retrySettings(retry).timeoutMs,
    };
    const out = await this.d.actuator.command(cmd, { priority, rule: ruleId, startHr, retry: retrySettings(retry), signal });
    if (out.detail) notes.details[cmd.id] = out.detail;
    await this.append({ type: 'command_result', data: this.result(cmd, out) });
    // Superseded or stopped actions were ended on purpose: the newer action (or the restart) owns the device.
    if (out.status !== 'confirmed' && !out.aborted) {
      this.d.counters.failedActions++;
      await this.raise(where, device.id, 'linkage.failed', priority >= LIFE_SAFETY_PRIORITY ? 'critical' : 'major', `linkage ${ruleId}: ${device.id} ${action} not confirmed (${out.status}, ${out.attempts} attempt${out.attempts > 1 ? 's' : ''}${out.detail ? `: ${out.detail}` : ''})`, triggerEventId, device.tags);
    }
    return [toAction(device.id, action, cmd.id, out)];
  }

  private async refuse(rule: Rule, where: Site, device: string, action: string, startHr: number, detail: string, notes: Notes): Promise<LinkageAction[]> {
    this.d.counters.refused++;
    const id = randomUUID();
    notes.details[id] = detail;
    this.d.log.warn({ rule: rule.id, device, action }, detail);
    const out: Outcome = { status: 'rejected', attempts: 1, sentAfterMs: this.d.hr() - startHr, latencyMs: 0, detail };
    await this.append({ type: 'command_result', data: this.result({ id, site: where.site, edge: where.edge, device, action }, out) });
    return [toAction(device, action, id, out)];
  }

  private async release(rule: Rule, latchRule: string, retry: Retry | undefined, ctx: TriggerContext, startHr: number, signal: AbortSignal, notes: Notes): Promise<LinkageAction[]> {
    const target = this.d.rules().get(latchRule);
    const scope: Record<string, string> = {};
    for (const f of target?.scope ?? ['device']) if (ctx.values[f] !== undefined) scope[f] = ctx.values[f] as string;
    const { ended, toRelease } = this.d.holds.release(latchRule, ctx.event.site, scope);
    if (!ended.length) return [];
    this.d.log.info({ rule: rule.id, latches: ended.map((l) => l.key), devices: [...toRelease.keys()] }, 'linkage latch released');
    const saved = this.d.holds.save().then(() => [], (err: unknown) => this.logged(err, 'linkage state not saved'));
    const where: Site = { site: ctx.event.site, edge: ctx.event.edge };
    const sends = [...toRelease].map(([id, hold]) => {
      const device = this.d.devices.get(id) ?? ({ id, kind: 'access_gate', profile: 'unknown', tags: {} } as DeviceInfo);
      return this.command({ ruleId: rule.id, priority: rule.priority, where, device, action: hold.release, params: {}, retry, startHr, signal, triggerEventId: ctx.event.id, notes });
    });
    return (await Promise.all([saved, ...sends])).flat();
  }

  private async other(action: Action, rule: Rule, ctx: TriggerContext, startHr: number, signal: AbortSignal, notes: Notes): Promise<LinkageAction[]> {
    const where: Site = { site: ctx.event.site, edge: ctx.event.edge };
    if ('alarm' in action) {
      const t0 = this.d.hr();
      const id = await this.raise(where, ctx.event.device, action.alarm.type, action.alarm.severity, fillTemplate(action.alarm.message, ctx), ctx.event.id, ctx.event.tags);
      const done = this.d.hr();
      return [{ device: ctx.event.device, action: 'raise_alarm', commandId: id, status: 'confirmed', attempts: 1, sentAfterMs: t0 - startHr, confirmedAfterMs: done - startHr }];
    }
    if ('notice' in action) {
      const t0 = this.d.hr();
      const text = fillTemplate(action.notice.text, ctx);
      const id = await this.event(where, ctx.event.device, 'linkage.notice', action.notice.severity ?? 'info', { text, rule: rule.id, triggerEventId: ctx.event.id });
      try {
        this.d.onNotice(text, ctx);
      } catch (err) {
        this.logged(err, 'notice listener threw');
      }
      return [{ device: ctx.event.device, action: 'notice', commandId: id, status: 'confirmed', attempts: 1, sentAfterMs: t0 - startHr, confirmedAfterMs: this.d.hr() - startHr }];
    }
    if ('camera' in action) {
      const sel = selectDevices(action.camera.select, ctx, this.d.devices);
      const perCamera = sel.devices.map((cam) => this.camera(cam, action.camera.preset ?? (action.camera.presetTag ? cam.tags[action.camera.presetTag] : undefined), action.camera.snapshot ?? false, action.camera.retry, rule, ctx, startHr, signal, notes, action.camera.clip ?? false));
      return (await Promise.all(perCamera)).flat();
    }
    return [];
  }

  private async camera(cam: DeviceInfo, preset: string | undefined, snapshot: boolean, retry: Retry | undefined, rule: Rule, ctx: TriggerContext, startHr: number, signal: AbortSignal, notes: Notes, clip: boolean): Promise<LinkageAction[]> {
    const where: Site = { site: ctx.event.site, edge: ctx.event.edge };
    // A clip is the evidence recorder's to make (it holds the ring buffer): the rule only asks for it.
    if (clip) await this.event(where, cam.id, 'linkage.clip', ctx.event.severity, { rule: rule.id, triggerEventId: ctx.event.id, triggerKind: ctx.event.kind, triggerAt: ctx.event.edgeTime });
    const cameras = this.d.cameras;
    const out: LinkageAction[] = [];
    const steps: Array<{ action: string; run: () => Promise<unknown> }> = [];
    if (preset) steps.push({ action: 'goto_preset', run: () => (cameras ? cameras.gotoPreset(cam.id, preset) : Promise.reject(new Error('no camera interface configured'))) });
    if (snapshot) steps.push({ action: 'snapshot', run: () => (cameras ? cameras.snapshot(cam.id) : Promise.reject(new Error('no camera interface configured'))) });
    // A camera known to be offline is tried once, not through the retry budget: its linkage.failed (naming
    // the camera and why) comes at once instead of after every backoff (issue #14).
    const settings = this.d.devices.online(cam.id) ? retrySettings(retry) : { ...retrySettings(retry), attempts: 1 };
    for (const step of steps) {
      const id = randomUUID();
      const res = await this.d.actuator.call(step.run, { startHr, retry: settings, signal });
      out.push(toAction(cam.id, step.action, id, res));
      if (res.detail) notes.details[id] = res.detail;
      if (res.status !== 'confirmed') {
        this.d.counters.failedActions++;
        await this.raise(where, cam.id, 'linkage.failed', 'major', `linkage ${rule.id}: camera ${cam.id} ${step.action} failed (${res.detail ?? 'no detail'})`, ctx.event.id, cam.tags);
        continue;
      }
      const ref = (res.value as { ref?: unknown } | undefined)?.ref;
      if (step.action === 'snapshot' && typeof ref === 'string') {
        notes.snapshots[cam.id] = ref;
        await this.event(where, cam.id, 'linkage.snapshot', 'info', { ref, rule: rule.id, triggerEventId: ctx.event.id });
      }
    }
    return out;
  }

  private async missingAlarm(rule: Rule, ctx: TriggerContext, missing: string[]): Promise<LinkageAction[]> {
    const where: Site = { site: ctx.event.site, edge: ctx.event.edge };
    await this.raise(where, ctx.event.device, 'linkage.failed', rule.priority >= LIFE_SAFETY_PRIORITY ? 'critical' : 'major', `linkage ${rule.id}: missing devices: ${missing.join('; ')}`, ctx.event.id, ctx.event.tags);
    return [];
  }

  private async raise(where: Site, device: string, type: string, severity: Severity, message: string, sourceEventId: string, tags: Record<string, string> | undefined): Promise<string> {
    const alarm: Alarm = { id: randomUUID(), site: where.site, edge: where.edge, device, type, severity, state: 'open', raisedAt: this.iso(), count: 1, message: message.slice(0, 512), sourceEventId };
    if (tags && Object.keys(tags).length) alarm.tags = { ...tags };
    this.d.log.warn({ device, type, severity }, message);
    await this.append({ type: 'alarm', data: alarm });
    return alarm.id;
  }

  private async event(where: Site, device: string, kind: string, severity: Severity, payload: Record<string, unknown>): Promise<string> {
    const event: Event = { id: randomUUID(), site: where.site, edge: where.edge, device, kind, severity, edgeTime: this.iso(), payload };
    await this.append({ type: 'event', data: event });
    return event.id;
  }

  private result(cmd: Pick<Command, 'id' | 'site' | 'edge' | 'device' | 'action'>, out: Outcome): CommandResult {
    const r: CommandResult = { commandId: cmd.id, site: cmd.site, edge: cmd.edge, device: cmd.device, action: cmd.action, status: out.status, attempts: out.attempts, latencyMs: round(out.latencyMs), at: this.iso() };
    if (out.detail) r.detail = out.detail.slice(0, 512);
    return r;
  }

  private finish(rule: string, where: Site, triggerEventId: string, startedAt: string, actions: LinkageAction[]): LinkageExecution {
    const ok = actions.filter((a) => a.status === 'confirmed').length;
    const status = ok === actions.length ? 'confirmed' : ok === 0 ? 'failed' : 'partial';
    return { id: randomUUID(), site: where.site, edge: where.edge, rule, triggerEventId, startedAt, finishedAt: this.iso(), status, actions };
  }

  /** The outbox is the audit trail; if it fails we log and go on, the devices have already been commanded. */
  private async append(msg: OutboxInput): Promise<void> {
    try {
      await this.d.sink.append(msg);
    } catch (err) {
      this.d.counters.sinkErrors++;
      this.d.log.error({ err, type: msg.type }, 'linkage record not stored');
    }
  }

  private logged(err: unknown, msg: string): [] {
    this.d.log.error({ err }, msg);
    return [];
  }

  private iso(): string {
    return new Date(this.d.clock.now()).toISOString();
  }
}

export function retrySettings(r: Retry | undefined): RetrySettings {
  return {
    timeoutMs: r?.timeoutMs ?? DEFAULT_RETRY.timeoutMs,
    attempts: r?.attempts ?? DEFAULT_RETRY.attempts,
    backoffMs: r?.backoffMs ?? DEFAULT_RETRY.backoffMs,
    maxBackoffMs: r?.maxBackoffMs ?? DEFAULT_RETRY.maxBackoffMs,
  };
}

function retryOf(rule: Rule | undefined, action: string): Retry | undefined {
  for (const a of rule?.actions ?? []) if ('command' in a && a.command.action === action) return a.command.retry;
  return undefined;
}

export function scopeValues(rule: Rule, ctx: TriggerContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of rule.scope ?? ['device']) if (ctx.values[f] !== undefined) out[f] = ctx.values[f] as string;
  return out;
}

function toAction(device: string, action: string, commandId: string, out: Outcome): LinkageAction {
  const a: LinkageAction = { device, action, commandId, status: out.status, attempts: out.attempts, sentAfterMs: round(out.sentAfterMs) };
  if (out.confirmedAfterMs !== undefined) a.confirmedAfterMs = round(out.confirmedAfterMs);
  return a;
}

function round(ms: number): number {
  return Math.max(0, Math.round(ms * 1000) / 1000);
}
