/**
 * The local linkage engine: canonical events in, device actions with read-back out, offline-capable.
 * It depends only on the ports in ../ports.ts, so the broker, the devices and the outbox can be swapped
 * or faked. A malformed event, a throwing port or a failing action is counted and logged, never fatal.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { validators, type Command, type Event } from '@safe-community/contracts';
import { CodedError, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { CameraPort, CommandPort, DeviceDirectory, EventSource, UplinkSink } from '../ports.js';
import { Actuator, ReadBackHub } from './actuator.js';
import { drill, type DrillOptions, type DrillReport } from './drill.js';
import { ExecutionRunner, type ExecutionReport } from './execution.js';
import { HoldStore, type Latch } from './holds.js';
import { checkConditions, scopeKey, triggerContext, triggerMatches, type TriggerContext } from './match.js';
import { BUILTIN_RULES_FILE, checkRules, loadRulePack } from './rules.js';
import { PriorityScheduler } from './scheduler.js';
import type { Rule } from './schema.js';
import { Throttle } from './throttle.js';

export interface LinkageEngineOptions {
  events: EventSource;
  devices: DeviceDirectory;
  commands: CommandPort;
  cameras?: CameraPort;
  sink: UplinkSink;
  log: Logger;
  clock?: Clock;
  /** JSON file of active holds; without it holds do not survive a restart. */
  stateFile?: string;
  /** Ready rules (e.g. from parseRules); when absent, `ruleFiles` are loaded on start. */
  rules?: readonly Rule[];
  /** Rule files to load; default the built-in pack (edge-agent/rules/builtin.yaml). */
  ruleFiles?: readonly string[];
  /** IANA zone for time-window conditions; default the host's zone. */
  timeZone?: string;
  /** Routine (non-life-safety) executions running at once; default 4. */
  slots?: number;
  /** Monotonic ms for timings; default performance.now. */
  hr?: () => number;
  /**
   * Parts of the agent that handle some devices' triggers themselves; a rule with `unlessHandledBy: <part>`
   * skips a trigger the part claims (the care monitor owns enrolled residents' SOS, so it is raised once).
   */
  handledBy?: { care?: (device: string) => boolean };
  /** Randomness for backoff jitter (tests). */
  random?: () => number;
}

export interface LinkageStats {
  events: number;
  malformed: number;
  matched: number;
  debounced: number;
  cooling: number;
  conditionsFalse: number;
  executions: number;
  failedActions: number;
  refused: number;
  errors: number;
  sinkErrors: number;
}

export type ExecutionListener = (report: ExecutionReport) => void;
export type NoticeListener = (text: string, trigger: Event) => void;

export class LinkageEngine {
  private rules: Rule[] = [];
  private readonly byId = new Map<string, Rule>();
  private readonly throttle = new Throttle();
  private readonly execListeners = new Set<ExecutionListener>();
  private readonly noticeListeners = new Set<NoticeListener>();
  private readonly unsubscribe: Array<() => void> = [];
  private holds?: HoldStore;
  private runner?: ExecutionRunner;
  private scheduler?: PriorityScheduler;
  private abort?: AbortController;
  private running = false;
  private zone?: string;
  private readonly counters = { events: 0, malformed: 0, matched: 0, debounced: 0, cooling: 0, conditionsFalse: 0, executions: 0, failedActions: 0, refused: 0, errors: 0, sinkErrors: 0 };

  constructor(private readonly opts: LinkageEngineOptions) {}

  /** Loads rules and holds, subscribes to events and read-backs, then re-asserts holds left active. */
  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    const clock = o.clock ?? systemClock;
    const hr = o.hr ?? (() => performance.now());
    const log = o.log.child({ part: 'linkage' });
    const rules = o.rules ? [...o.rules] : await loadRulePack(o.ruleFiles ?? [BUILTIN_RULES_FILE]);
    checkRules(rules);
    // Highest priority first, so when one event triggers several rules the life-safety one goes out first.
    this.rules = rules.sort((a, b) => b.priority - a.priority);
    this.byId.clear();
    for (const r of this.rules) this.byId.set(r.id, r);
    this.holds = new HoldStore(o.stateFile, log);
    const restored = await this.holds.load();
    const hub = new ReadBackHub();
    const actuator = new Actuator({ commands: o.commands, clock, hub, log, hr, ...(o.random ? { random: o.random } : {}) });
    this.runner = new ExecutionRunner({
      devices: o.devices,
      cameras: o.cameras,
      sink: o.sink,
      holds: this.holds,
      actuator,
      clock,
      hr,
      log,
      rules: () => this.byId,
      onNotice: (text, ctx) => this.emitNotice(text, ctx),
      counters: this.counters,
    });
    this.scheduler = new PriorityScheduler(o.slots ?? 4, (err) => {
      this.counters.errors++;
      log.error({ err }, 'linkage execution failed unexpectedly');
    });
    this.abort = new AbortController();
    // Every action in flight listens on this one signal; a fire rule has dozens at once, by design.
    setMaxListeners(0, this.abort.signal);
    this.unsubscribe.push(
      o.commands.onReadBack((rb) => {
        try {
          hub.handle(rb);
        } catch (err) {
          this.counters.errors++;
          log.error({ err }, 'read-back not handled');
        }
      }),
    );
    this.unsubscribe.push(o.events.onEvent((e) => this.handle(e, hr, clock, log)));
    this.running = true;
    log.info({ rules: this.rules.length, restoredLatches: restored.length }, 'linkage engine started');
    for (const latch of restored) {
      if (!this.byId.has(latch.rule)) {
        // With its rule gone from the pack no release rule can name it, so it could never end: drop it loudly.
        log.error({ latch: latch.key, devices: Object.keys(latch.holds) }, 'active latch of a rule no longer in the pack dropped; holds not re-asserted');
        this.holds.release(latch.rule, latch.site, {});
        await this.holds.save().catch((err: unknown) => log.error({ err }, 'linkage state not saved'));
        continue;
      }
      log.warn({ latch: latch.key, devices: Object.keys(latch.holds) }, 're-asserting holds of an active latch after restart');
      const startHr = hr();
      const signal = this.abort.signal;
      const runner = this.runner;
      this.scheduler.submit(this.byId.get(latch.rule)?.priority ?? 100, async () => this.emit(await runner.reassert(latch, startHr, signal)));
    }
  }

  /** Stops taking events, ends retries in progress (recorded as failed) and waits for the audit records. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    this.abort?.abort(new CodedError('ERR_LINKAGE_STOPPED', 'linkage engine stopped'));
    await this.scheduler?.close();
    await this.holds?.flush();
  }

  /** Resolves when every execution started so far has finished (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await this.scheduler?.whenIdle();
  }

  /** In-process listener for every finished execution (the demo prints these). Returns an unsubscribe. */
  onExecution(listener: ExecutionListener): () => void {
    this.execListeners.add(listener);
    return () => this.execListeners.delete(listener);
  }

  onNotice(listener: NoticeListener): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  stats(): Readonly<LinkageStats> {
    return { ...this.counters };
  }

  ruleList(): readonly Rule[] {
    return this.rules;
  }

  /** Latches now active (e.g. a fire alarm not yet reset) with their held devices. */
  activeHolds(): Latch[] {
    return this.holds?.list() ?? [];
  }

  /**
   * Whether a command from elsewhere (operator, cloud, another rule) may go out now. A command that would
   * lock, close or lower a device held by an active latch is refused with the reason.
   */
  check(cmd: Pick<Command, 'device' | 'action'>): { allowed: true } | { allowed: false; reason: string } {
    const r = this.holds?.refusal(cmd.device, cmd.action);
    return r ? { allowed: false, reason: `${cmd.device} is held (${r.hold.action}) by ${r.latch.rule} since ${r.latch.since}` } : { allowed: true };
  }

  /** What a fire alarm in `building` would actuate, and what is missing or offline. Sends nothing. */
  drill(building: string, options: Omit<DrillOptions, 'building'> = {}): DrillReport {
    const cameras = this.opts.cameras;
    return drill({
      rules: this.rules, devices: this.opts.devices, holds: this.activeHolds(), timeZone: this.timeZone(), now: (this.opts.clock ?? systemClock).now(),
      ...(cameras?.knownPresets ? { presets: (camera: string) => cameras.knownPresets!(camera) } : {}),
    }, { building, ...options });
  }

  private handle(raw: unknown, hr: () => number, clock: Clock, log: Logger): void {
    const startHr = hr();
    if (!this.running) return;
    this.counters.events++;
    try {
      if (!validators.event.check(raw)) {
        this.counters.malformed++;
        log.warn({ issues: validators.event.issues(raw).slice(0, 3) }, 'malformed event ignored by linkage');
        return;
      }
      const ctx = triggerContext(raw, this.opts.devices);
      const now = clock.now();
      for (const rule of this.rules) {
        if (!triggerMatches(rule, ctx)) continue;
        if (rule.unlessHandledBy && this.opts.handledBy?.[rule.unlessHandledBy]?.(raw.device)) continue;
        const cond = checkConditions(rule.conditions, ctx, this.opts.devices, now, this.timeZone());
        if (!cond.ok) {
          this.counters.conditionsFalse++;
          log.debug({ rule: rule.id, reason: cond.reason }, 'linkage conditions not met');
          continue;
        }
        const verdict = this.throttle.check(scopeKey(rule, ctx), now, rule.debounceMs ?? 0, rule.cooldownMs ?? 0);
        if (verdict !== 'run') {
          this.counters[verdict === 'debounced' ? 'debounced' : 'cooling']++;
          continue;
        }
        this.counters.matched++;
        this.submit(rule, ctx, startHr);
      }
      if (this.counters.events % 10_000 === 0) this.throttle.prune(now, 86_400_000);
    } catch (err) {
      this.counters.errors++;
      log.error({ err }, 'linkage could not handle an event');
    }
  }

  private submit(rule: Rule, ctx: TriggerContext, startHr: number): void {
    const runner = this.runner;
    const scheduler = this.scheduler;
    const signal = this.abort?.signal;
    if (!runner || !scheduler || !signal) return;
    scheduler.submit(rule.priority, async () => this.emit(await runner.run(rule, ctx, startHr, signal)));
  }

  private emit(report: ExecutionReport): void {
    this.counters.executions++;
    for (const l of this.execListeners) {
      try {
        l(report);
      } catch (err) {
        this.counters.errors++;
        this.opts.log.error({ err }, 'linkage execution listener threw');
      }
    }
  }

  private emitNotice(text: string, ctx: TriggerContext): void {
    for (const l of this.noticeListeners) l(text, ctx.event);
  }

  private timeZone(): string {
    // Resolved once: building a formatter per event would cost more than the rest of the matching.
    this.zone ??= this.opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    return this.zone;
  }
}
