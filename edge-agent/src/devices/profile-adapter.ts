/**
 * The one profile-driven adapter: vendor payload → canonical Event / Telemetry / DeviceStatus and
 * command read-backs, and canonical Command → vendor payload, all from the profile data. Every rule
 * whose topic and `when` match contributes, so one vendor message may carry an event and a state change.
 * Telemetry goes out as `<profile kind>.<metric>` (firmware-configs `telemetryMetric`), the names the
 * dashboards and the care monitor read.
 */
import { randomUUID } from 'node:crypto';
import { validators, type Command, type Event, type Telemetry, type DeviceStatus } from '@safe-community/contracts';
import { telemetryMetric, type Profile, type InboundRule } from '@safe-community/firmware-configs';
import { systemClock, type Clock } from '@safe-community/runtime';
import type { DeviceInfo, OutboxInput } from '../ports.js';
import { decodeFields, encodePayload, DecodeError, EncodeError, type Fields } from './codecs.js';
import { evalMap, evalTime, evalValue } from './values.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A read-back before the gateway stamps its arrival time. */
export interface DecodedReadBack {
  commandId: string;
  device: string;
  ok: boolean;
  detail?: string;
}

export interface Decoded {
  /** Canonical records for the outbox, in rule order. */
  messages: OutboxInput[];
  readBacks: DecodedReadBack[];
  /** State fields this message changed (door, barrier, alarm…), empty when none. */
  state: Record<string, unknown>;
}

export interface AdapterContext {
  site: string;
  edge: string;
  clock?: Clock;
}

function lookupText(fields: Fields, path: string): string | undefined {
  let cur: unknown = fields;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null || typeof cur === 'object' ? undefined : String(cur);
}

function matches(rule: InboundRule, suffix: string, fields: Fields): boolean {
  if (rule.topic !== suffix) return false;
  if (!rule.when) return true;
  for (const [k, v] of Object.entries(rule.when)) if (lookupText(fields, k) !== String(v)) return false;
  return true;
}

export class ProfileAdapter {
  private readonly clock: Clock;
  private readonly inboundTopics: Set<string>;

  constructor(readonly profile: Profile, private readonly ctx: AdapterContext) {
    this.clock = ctx.clock ?? systemClock;
    this.inboundTopics = new Set(profile.inbound.map((r) => r.topic));
  }

  /** The topic suffix commands go to, or undefined for a device that takes none. */
  get commandSuffix(): string | undefined {
    return this.profile.commands?.topic;
  }

  /** Turns one vendor message into canonical messages; throws DecodeError (with a code) when it cannot. */
  decode(device: DeviceInfo, suffix: string, payload: Buffer): Decoded {
    if (!this.inboundTopics.has(suffix)) throw new DecodeError('ERR_DECODE_TOPIC', `profile ${this.profile.id} has no inbound topic "${suffix.slice(0, 64)}"`);
    const fields = decodeFields(this.profile.codec, payload);
    const rules = this.profile.inbound.filter((r) => matches(r, suffix, fields));
    if (rules.length === 0) throw new DecodeError('ERR_DECODE_NO_RULE', `no ${this.profile.id} rule matches this "${suffix}" message`);

    const now = new Date(this.clock.now()).toISOString();
    const out: Decoded = { messages: [], readBacks: [], state: {} };
    for (const rule of rules) {
      const state = evalMap(rule.state, fields);
      Object.assign(out.state, state);
      switch (rule.emit) {
        case 'event':
          out.messages.push({ type: 'event', data: this.event(device, rule.kind, rule.severity, evalMap(rule.payload, fields), evalTime(rule.time, fields), now) });
          break;
        case 'telemetry':
          for (const t of this.telemetry(device, rule, fields, now)) out.messages.push({ type: 'telemetry', data: t });
          break;
        case 'state':
          out.messages.push({ type: 'status', data: this.status(device, state, now) });
          break;
        case 'readback':
          out.readBacks.push(this.readBack(device, rule, fields));
          break;
      }
    }
    return out;
  }

  /** The vendor topic suffix and payload for a canonical command; EncodeError when the profile has no such action. */
  encode(device: DeviceInfo, cmd: Command): { topic: string; payload: Buffer } {
    const commands = this.profile.commands;
    const tpl = commands && Object.hasOwn(commands.actions, cmd.action) ? commands.actions[cmd.action] : undefined;
    if (!commands || !tpl) throw new EncodeError('ERR_COMMAND_UNSUPPORTED', `${device.id} (${this.profile.id}) has no command "${cmd.action}"`);
    const payload = encodePayload(this.profile.codec, tpl, { id: cmd.id, action: cmd.action, params: cmd.params, now: new Date(this.clock.now()) });
    return { topic: `devices/${device.id}/${commands.topic}`, payload };
  }

  private event(device: DeviceInfo, kind: string, severity: Event['severity'], payload: Record<string, unknown>, deviceTime: string | undefined, now: string): Event {
    const ev: Event = {
      id: randomUUID(), site: this.ctx.site, edge: this.ctx.edge, device: device.id, kind, severity, edgeTime: now,
      tags: { ...device.tags }, payload,
    };
    if (deviceTime !== undefined) ev.deviceTime = deviceTime;
    return this.valid(validators.event, ev);
  }

  private telemetry(device: DeviceInfo, rule: Extract<InboundRule, { emit: 'telemetry' }>, fields: Fields, now: string): Telemetry[] {
    const time = evalTime(rule.time, fields) ?? now;
    const out: Telemetry[] = [];
    for (const m of rule.metrics) {
      const value = evalValue(m.value, fields);
      if (value === undefined) continue;
      const metric = telemetryMetric(this.profile.kind, m.metric);
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new DecodeError('ERR_DECODE_VALUE', `${metric}: not a number`);
      const point: Telemetry = { site: this.ctx.site, edge: this.ctx.edge, device: device.id, metric, value, time };
      if (m.unit !== undefined) point.unit = m.unit;
      out.push(this.valid(validators.telemetry, point));
    }
    if (out.length === 0) throw new DecodeError('ERR_DECODE_EMPTY', `no known metric in this "${rule.topic}" message`);
    return out;
  }

  private status(device: DeviceInfo, state: Record<string, unknown>, now: string): DeviceStatus {
    return this.valid(validators.deviceStatus, { site: this.ctx.site, edge: this.ctx.edge, device: device.id, kind: device.kind, online: true, at: now, state });
  }

  private readBack(device: DeviceInfo, rule: Extract<InboundRule, { emit: 'readback' }>, fields: Fields): DecodedReadBack {
    const commandId = evalValue(rule.commandId, fields);
    if (typeof commandId !== 'string' || !UUID_RE.test(commandId)) throw new DecodeError('ERR_DECODE_VALUE', 'read-back without a valid command id');
    const ok = evalValue(rule.ok, fields);
    if (typeof ok !== 'boolean') throw new DecodeError('ERR_DECODE_VALUE', 'read-back result is not a boolean');
    const rb: DecodedReadBack = { commandId: commandId.toLowerCase(), device: device.id, ok };
    const detail = rule.detail ? evalValue(rule.detail, fields) : undefined;
    if (detail !== undefined) rb.detail = String(detail).slice(0, 256);
    return rb;
  }

  private valid<T>(v: { check(x: unknown): boolean; issues(x: unknown): { path: string; reason: string }[] }, value: T): T {
    if (v.check(value)) return value;
    const first = v.issues(value)[0];
    throw new DecodeError('ERR_DECODE_INVALID', `canonical message invalid at ${first?.path || '/'}: ${first?.reason ?? 'unknown'}`);
  }
}
