/**
 * Matching: does an event trigger a rule, do its conditions hold, and which devices does a selector
 * address. Pure functions over the event, the directory and the time, so the engine and the drill share
 * them and the drill's answer is exactly what the engine would do.
 */
import { SEVERITY_RANK, type Event } from '@safe-community/contracts';
import type { DeviceDirectory, DeviceInfo } from '../ports.js';
import type { Rule, Selector, TagMap, TimeWindow, Conditions } from './schema.js';

/** Everything a rule can refer to about its trigger: the device's tags, overlaid by the event's tags. */
export interface TriggerContext {
  event: Event;
  /** tags + site, edge, device, kind (the event's own fields win over tags of the same name). */
  values: Readonly<Record<string, string>>;
}

export function triggerContext(event: Event, devices: DeviceDirectory): TriggerContext {
  const device = devices.get(event.device);
  const values: Record<string, string> = { ...(device?.tags ?? {}), ...(event.tags ?? {}) };
  values.site = event.site;
  values.edge = event.edge;
  values.device = event.device;
  values.kind = event.kind;
  // A panel reports its zone in the payload; rules and messages may use it like a tag.
  for (const key of ['zone', 'loop', 'detector', 'lane']) {
    const v = event.payload[key];
    if (values[key] === undefined && (typeof v === 'string' || typeof v === 'number')) values[key] = String(v);
  }
  // A plate (barrier or camera reading) compares in one spelling: no separators or spaces, upper case, so
  // allow/block lists can be written as people write plates (京A·12345 = 京A12345).
  if (typeof event.payload.plate === 'string') values.plate = normalisePlate(event.payload.plate);
  return { event, values };
}

export function normalisePlate(text: string): string {
  return text.replace(/[\s·•.\-]/g, '').toUpperCase();
}

export function kindMatches(pattern: string | readonly string[], kind: string): boolean {
  const list = typeof pattern === 'string' ? [pattern] : pattern;
  return list.some((p) => (p.endsWith('.*') ? kind.startsWith(p.slice(0, -1)) : p === kind));
}

/** Trigger kind, severity floor and `where` filters. */
export function triggerMatches(rule: Rule, ctx: TriggerContext): boolean {
  if (rule.enabled === false) return false;
  if (!kindMatches(rule.trigger.kind, ctx.event.kind)) return false;
  if (rule.trigger.minSeverity && SEVERITY_RANK[ctx.event.severity] < SEVERITY_RANK[rule.trigger.minSeverity]) return false;
  for (const [key, want] of Object.entries(rule.trigger.where ?? {})) {
    const have = ctx.values[key];
    if (have === undefined) return false;
    const wanted = resolveValues(want, ctx);
    const list = key === 'plate' ? wanted?.map(normalisePlate) : wanted;
    if (list === undefined || !list.includes(have)) return false;
  }
  return true;
}

/** The key that makes two triggers "the same" for debounce, cooldown and latches. */
export function scopeKey(rule: Rule, ctx: TriggerContext): string {
  const fields = rule.scope ?? ['device'];
  return `${rule.id}|${ctx.event.site}|${fields.map((f) => `${f}=${ctx.values[f] ?? ''}`).join('|')}`;
}

/** `$trigger.x` → the trigger's value for x; literals pass through. undefined when a reference is unresolved. */
export function resolveValues(want: string | readonly string[], ctx: TriggerContext): string[] | undefined {
  const out: string[] = [];
  for (const item of typeof want === 'string' ? [want] : want) {
    if (item.startsWith('$trigger.')) {
      const v = ctx.values[item.slice('$trigger.'.length)];
      if (v === undefined) continue;
      out.push(v);
    } else out.push(item);
  }
  return out.length ? out : undefined;
}

export interface Selection {
  devices: DeviceInfo[];
  /** Explicit ids absent from the directory, or a shortfall against `min`, in words. */
  missing: string[];
}

/** The devices a selector addresses for this trigger, in directory order. */
export function selectDevices(sel: Selector, ctx: TriggerContext, directory: DeviceDirectory): Selection {
  const missing: string[] = [];
  const tagFilter: Array<[string, string[]]> = [];
  const wanted: TagMap = { ...(sel.tags ?? {}) };
  if (sel.group) wanted.group = sel.group;
  for (const [key, want] of Object.entries(wanted)) {
    const values = resolveValues(want, ctx);
    if (values === undefined) {
      // The trigger lacks the tag (e.g. a panel without a building tag). Life-safety rules widen: opening
      // too many evacuation gates is safe, opening none is not.
      if ((sel.ifUnresolved ?? 'none') === 'none') return { devices: [], missing: [`${key}: trigger has no value for ${String(want)}`] };
      continue;
    }
    tagFilter.push([key, values]);
  }
  const pool = sel.ids
    ? sel.ids.flatMap((ref) => {
        // `$trigger.device`: the device that raised the trigger (a barrier that read a plate raises itself).
        const id = ref === '$trigger.device' ? ctx.event.device : ref;
        const d = directory.get(id);
        if (!d) missing.push(id);
        return d ? [d] : [];
      })
    : directory.list(sel.kind ? { kind: sel.kind } : undefined);
  const devices = pool.filter(
    (d) => (!sel.kind || d.kind === sel.kind) && tagFilter.every(([k, vs]) => d.tags[k] !== undefined && vs.includes(d.tags[k] as string)),
  );
  if (sel.min !== undefined && devices.length < sel.min) {
    missing.push(`${describeSelector(sel, ctx)}: ${devices.length} found, ${sel.min} expected`);
  }
  return { devices, missing };
}

export function describeSelector(sel: Selector, ctx?: TriggerContext): string {
  const parts: string[] = [];
  if (sel.kind) parts.push(sel.kind);
  if (sel.ids) parts.push(`ids=${sel.ids.join(',')}`);
  if (sel.group) parts.push(`group=${sel.group}`);
  for (const [k, v] of Object.entries(sel.tags ?? {})) {
    const shown = ctx ? (resolveValues(v, ctx) ?? [String(v)]) : typeof v === 'string' ? [v] : v;
    parts.push(`${k}=${shown.join('|')}`);
  }
  return parts.join(' ');
}

export interface ConditionResult {
  ok: boolean;
  /** Why a condition failed, for logs and the drill. */
  reason?: string;
}

/** Time windows (any of) and device state checks (all of). `now` is epoch ms, `timeZone` an IANA zone. */
export function checkConditions(cond: Conditions | undefined, ctx: TriggerContext, directory: DeviceDirectory, now: number, timeZone: string): ConditionResult {
  if (!cond) return { ok: true };
  if (cond.timeWindows && !cond.timeWindows.some((w) => inWindow(w, now, timeZone))) {
    return { ok: false, reason: 'outside its time windows' };
  }
  for (const c of cond.state ?? []) {
    const id = c.device === '$trigger.device' ? ctx.event.device : c.device;
    if (c.online !== undefined && directory.online(id) !== c.online) return { ok: false, reason: `${id} online is not ${c.online}` };
    const value = directory.state(id)[c.field];
    if (c.equals !== undefined && !same(value, c.equals)) return { ok: false, reason: `${id}.${c.field} is not ${JSON.stringify(c.equals)}` };
    if (c.notEquals !== undefined && same(value, c.notEquals)) return { ok: false, reason: `${id}.${c.field} is ${JSON.stringify(c.notEquals)}` };
    if (c.in !== undefined && !c.in.some((x) => same(value, x))) return { ok: false, reason: `${id}.${c.field} not in the allowed values` };
  }
  return { ok: true };
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const partsCache = new Map<string, Intl.DateTimeFormat>();

/** Local wall-clock minute and weekday in the given zone. */
export function localTime(now: number, timeZone: string): { minute: number; day: string } {
  let fmt = partsCache.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, hour12: false, hour: '2-digit', minute: '2-digit', weekday: 'short' });
    partsCache.set(timeZone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(now)).map((p) => [p.type, p.value]));
  const hour = Number(parts.hour) % 24; // some runtimes print midnight as 24
  return { minute: hour * 60 + Number(parts.minute), day: String(parts.weekday).slice(0, 3).toLowerCase() };
}

export function inWindow(w: TimeWindow, now: number, timeZone: string): boolean {
  const { minute, day } = localTime(now, timeZone);
  const from = toMinute(w.from);
  const to = toMinute(w.to);
  const wraps = from > to;
  const inside = wraps ? minute >= from || minute < to : minute >= from && minute < to;
  if (!inside) return false;
  if (!w.days) return true;
  // After midnight in a wrapping window the window belongs to the previous day's evening.
  const dayOfWindow = wraps && minute < to ? DAYS[(DAYS.indexOf(day) + 6) % 7] : day;
  return w.days.includes(dayOfWindow as (typeof w.days)[number]);
}

function toMinute(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** `{building}` placeholders in alarm and notice text, from the trigger's values. */
export function fillTemplate(text: string, ctx: TriggerContext): string {
  return text.replace(/\{([A-Za-z0-9_.-]+)\}/g, (all, key: string) => ctx.values[key] ?? all);
}
