/** Row ↔ view mapping for the alarm tables; both backends hand timestamps back as Date. */
import type { AlarmState, AlarmView, DispatchView, IncidentView, Severity } from './types.js';

export const ALARM_COLUMNS = `id, site, edge, device, type, severity, state, origin, rule, message, count, raised_at, last_seen_at,
  acknowledged_at, acknowledged_by, dispatched_at, resolved_at, resolved_by, assignee, escalation_level, incident_id,
  source_event_id, tags`;

export function iso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(String(v)).toISOString();
}
export const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toAlarmView(r: Record<string, unknown>): AlarmView {
  return {
    id: String(r.id),
    site: String(r.site),
    edge: str(r.edge),
    device: String(r.device),
    type: String(r.type),
    severity: r.severity as Severity,
    state: r.state as AlarmState,
    origin: String(r.origin),
    rule: str(r.rule),
    message: String(r.message),
    count: Number(r.count),
    raisedAt: iso(r.raised_at),
    lastSeenAt: iso(r.last_seen_at),
    acknowledgedAt: isoOrNull(r.acknowledged_at),
    acknowledgedBy: str(r.acknowledged_by),
    dispatchedAt: isoOrNull(r.dispatched_at),
    resolvedAt: isoOrNull(r.resolved_at),
    resolvedBy: str(r.resolved_by),
    assignee: str(r.assignee),
    escalationLevel: Number(r.escalation_level ?? 0),
    incidentId: str(r.incident_id),
    sourceEventId: str(r.source_event_id),
    tags: (r.tags as Record<string, string> | null) ?? {},
  };
}

export function toDispatchView(r: Record<string, unknown>): DispatchView {
  return {
    id: String(r.id),
    alarmId: String(r.alarm_id),
    terminal: String(r.terminal),
    status: r.status as DispatchView['status'],
    sentBy: String(r.sent_by),
    note: str(r.note),
    sentAt: iso(r.sent_at),
    acceptedAt: isoOrNull(r.accepted_at),
    arrivedAt: isoOrNull(r.arrived_at),
    feedback: str(r.feedback),
    feedbackAt: isoOrNull(r.feedback_at),
  };
}

export function toIncidentView(r: Record<string, unknown>): IncidentView {
  return {
    id: String(r.id),
    site: String(r.site),
    groupKey: String(r.group_key),
    state: r.state as IncidentView['state'],
    severity: r.severity as Severity,
    openedAt: iso(r.opened_at),
    lastAlarmAt: iso(r.last_alarm_at),
    closedAt: isoOrNull(r.closed_at),
    alarmIds: ((r.alarm_ids as unknown[] | null) ?? []).map(String),
    openAlarms: Number(r.open_alarms ?? 0),
  };
}
