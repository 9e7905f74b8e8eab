/**
 * Rows of the main tables as the drivers hand them back (both backends: timestamps as Date, bigint as
 * string, jsonb parsed). What a query that reads whole rows declares; a query of a few columns names its own.
 * Type aliases, not interfaces, so a row still fits the mappers that take any `Record<string, unknown>`.
 */
import type { AlarmCore, AlarmState, DispatchView, Severity } from '../alarms/types.js';

export type AlarmRow = AlarmCore & {
  raised_at: Date | string;
  last_seen_at: Date | string;
  acknowledged_at: Date | string | null;
  acknowledged_by: string | null;
  dispatched_at: Date | string | null;
  resolved_at: Date | string | null;
  resolved_by: string | null;
  assignee: string | null;
  escalation_level: number | null;
  incident_id: string | null;
  source_event_id: string | null;
  tags: Record<string, string> | null;
};

export type AlarmDispatchRow = {
  id: string;
  alarm_id: string;
  terminal: string;
  status: DispatchView['status'];
  sent_by: string;
  note: string | null;
  sent_at: Date | string;
  accepted_at: Date | string | null;
  arrived_at: Date | string | null;
  feedback: string | null;
  feedback_at: Date | string | null;
};

export type AlarmAuditRow = {
  id: string;
  alarm_id: string;
  at: Date | string;
  actor: string;
  action: string;
  from_state: AlarmState | null;
  to_state: AlarmState | null;
  detail: Record<string, unknown> | null;
};

export type EventRow = {
  edge: string;
  seq: string;
  id: string;
  site: string;
  device: string;
  kind: string;
  severity: Severity;
  device_time: Date | null;
  time: Date;
  received_at: Date;
  tags: Record<string, string> | null;
  payload: unknown;
};

export type EdgeCursorRow = {
  edge: string;
  site: string;
  last_seq: string | number;
  epoch: string | null;
  seq_offset: string | number;
  updated_at: Date;
};

export type RuleSetRow = {
  version: number;
  loaded_at: Date | string;
  loaded_by: string;
  body: unknown;
};
