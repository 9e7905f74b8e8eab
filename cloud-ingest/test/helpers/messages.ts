/** Builders for uplink records and envelopes, shaped as an edge's outbox sends them. */
import { randomUUID } from 'node:crypto';
import type { Envelope, UplinkMessage } from '@safe-community/contracts';

export const SITE = 'site-1';
const BASE = Date.parse('2026-11-29T08:00:00.000Z');
export const at = (seq: number): string => new Date(BASE + seq * 1000).toISOString();

export function telemetry(edge: string, seq: number, device = 'S1', value = seq): UplinkMessage {
  return { seq, type: 'telemetry', data: { site: SITE, edge, device, metric: 'temp.c', value, unit: 'C', time: at(seq) } };
}

export function event(edge: string, seq: number, device = 'FP1', kind = 'fire.alarm'): UplinkMessage {
  return {
    seq, type: 'event',
    data: { id: randomUUID(), site: SITE, edge, device, kind, severity: 'critical', edgeTime: at(seq), payload: { zone: 3, seq } },
  };
}

export function status(edge: string, seq: number, device: string, online: boolean, time = at(seq)): UplinkMessage {
  return { seq, type: 'status', data: { site: SITE, edge, device, online, at: time, state: { seq } } };
}

export function alarm(edge: string, seq: number, device: string, type: string, opts: { state?: 'open' | 'resolved'; severity?: 'minor' | 'major' | 'critical'; id?: string } = {}): UplinkMessage {
  return {
    seq, type: 'alarm',
    data: {
      id: opts.id ?? randomUUID(), site: SITE, edge, device, type, severity: opts.severity ?? 'major', state: opts.state ?? 'open',
      raisedAt: at(seq), count: 1, message: `${type} at ${device}`,
    },
  };
}

export function commandResult(edge: string, seq: number): UplinkMessage {
  return {
    seq, type: 'command_result',
    data: { commandId: randomUUID(), site: SITE, edge, device: 'G1', action: 'hold_open', status: 'confirmed', attempts: 1, latencyMs: 42.5, at: at(seq) },
  };
}

export function linkage(edge: string, seq: number): UplinkMessage {
  return {
    seq, type: 'linkage',
    data: {
      id: randomUUID(), site: SITE, edge, rule: 'fire-evacuation', triggerEventId: randomUUID(), startedAt: at(seq), finishedAt: at(seq),
      status: 'confirmed',
      actions: [{ device: 'G1', action: 'hold_open', commandId: randomUUID(), status: 'confirmed', attempts: 1, sentAfterMs: 2, confirmedAfterMs: 40 }],
    },
  };
}

/** A mix of every type, one record per seq in [from, to]. */
export function mixed(edge: string, from: number, to: number): UplinkMessage[] {
  const out: UplinkMessage[] = [];
  for (let s = from; s <= to; s++) {
    const k = s % 5;
    out.push(k === 0 ? event(edge, s) : k === 1 ? commandResult(edge, s) : k === 2 ? linkage(edge, s) : telemetry(edge, s));
  }
  return out;
}

export function envelope(edge: string, messages: unknown[]): Envelope {
  return { v: 1, edge, site: SITE, sentAt: new Date().toISOString(), messages: messages as Envelope['messages'] };
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
