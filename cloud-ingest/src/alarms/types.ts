/**
 * The alarm lifecycle's public shapes: the interface the REST API calls (shared with the API work of
 * issue 6), the views it answers with, and the ports the service is given (notifier, publish).
 */
import type { ClipEvidence } from '../evidence/alarm-clips.js';
export type Role = 'admin' | 'security' | 'installer' | 'viewer';
export interface Actor { user: string; role: Role; sites: readonly string[] | '*'; teams?: readonly string[]; }
export type AlarmState = 'open' | 'acknowledged' | 'dispatched' | 'resolved' | 'false_alarm';
import type { Severity } from '@safe-community/contracts';

export { SEVERITIES, type Severity } from '@safe-community/contracts';

export interface AlarmFilter {
  sites: readonly string[] | '*';
  state?: AlarmState[];
  severity?: string[];
  site?: string;
  device?: string;
  type?: string;
  /** 1..500, default 100. */
  limit?: number;
  /** ISO raised_at cursor: only alarms raised strictly before it (newest first). */
  before?: string;
}

/**
 * What every shape of an alarm carries, under the same names: the API's view, the row as the drivers return
 * it (store/rows.ts) and the upsert's input (upsert.ts) all extend it. A type alias, so a row built on it
 * still fits the mappers that take any `Record<string, unknown>`.
 */
export type AlarmCore = {
  id: string;
  site: string;
  edge: string | null;
  device: string;
  type: string;
  severity: Severity;
  state: AlarmState;
  /** Where it came from: edge, rule (cloud rule), report (resident report), api. */
  origin: string;
  rule: string | null;
  message: string;
  count: number;
};

export interface AlarmView extends AlarmCore {
  raisedAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  dispatchedAt: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  assignee: string | null;
  escalationLevel: number;
  incidentId: string | null;
  sourceEventId: string | null;
  tags: Record<string, string>;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  from: AlarmState | null;
  to: AlarmState | null;
  detail: Record<string, unknown> | null;
}

export interface CommentView { id: number; at: string; author: string; text: string; }

export interface LinkageEvidence {
  id: string;
  rule: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  actions: unknown[];
}

export interface DispatchView {
  id: string;
  alarmId: string;
  terminal: string;
  status: 'sent' | 'accepted' | 'arrived' | 'done' | 'cancelled';
  sentBy: string;
  note: string | null;
  sentAt: string;
  acceptedAt: string | null;
  arrivedAt: string | null;
  feedback: string | null;
  feedbackAt: string | null;
}

export interface AlarmDetail extends AlarmView {
  comments: CommentView[];
  audit: AuditEntry[];
  /** Clips: video around the trigger events (issue 16), pending until the edge has uploaded them. */
  evidence: { snapshots: string[]; events: string[]; linkages: LinkageEvidence[]; clips: ClipEvidence[] };
  dispatches: DispatchView[];
}

export interface IncidentView {
  id: string;
  site: string;
  /** 'resident:<r>:<episode>' (elderly care), 'resident:<r>', 'building:<b>' or 'device:<d>'. */
  groupKey: string;
  state: 'open' | 'closed';
  severity: Severity;
  openedAt: string;
  lastAlarmAt: string;
  closedAt: string | null;
  alarmIds: string[];
  /** Alarms of the incident not yet resolved. */
  openAlarms: number;
}

export interface EvidenceInput { kind: 'snapshot' | 'event' | 'linkage'; ref: string; detail?: Record<string, unknown>; }

export interface RaiseAlarm {
  site: string;
  device: string;
  type: string;
  severity: Severity;
  message: string;
  edge?: string;
  tags?: Record<string, string>;
  sourceEventId?: string;
  /** rule (cloud rule), report (resident report) or api. Default api. */
  origin?: 'rule' | 'report' | 'api';
  rule?: string;
  /** Recorded in the audit trail: 'rule:<id>', 'user:<id>', 'resident:<id>'. */
  raisedBy?: string;
  evidence?: EvidenceInput[];
  /** ISO time it happened; default now on the service clock. */
  at?: string;
}

/** Sends an alarm notification to a channel (duty phone, supervisor, manager…). */
export interface Notifier {
  notify(alarm: AlarmView, level: number, channel: string): Promise<void>;
}

/** Publishes one message (QoS 1 where the transport has it); used for terminal dispatch topics. */
export type Publish = (topic: string, payload: string) => Promise<void> | void;

/** Per severity: how often an unacknowledged alarm is notified again, and when it moves up a level. */
export interface EscalationStep {
  /** Seconds between repeat notifications while unacknowledged; 0 turns repeats off. */
  repeatSec: number;
  /** Seconds after raising at which the alarm reaches level 1, 2, … (ascending). */
  levelsAfterSec: number[];
}

export interface SlaRow {
  site: string;
  alarms: number;
  acknowledged: number;
  resolved: number;
  ackAvgSec: number | null;
  ackP90Sec: number | null;
  resolveAvgSec: number | null;
  resolveP90Sec: number | null;
}

export interface AlarmService {
  start(): Promise<void>;
  stop(): Promise<void>;
  list(filter: AlarmFilter): Promise<AlarmView[]>;
  get(id: string, actor: Actor): Promise<AlarmDetail>;
  acknowledge(id: string, actor: Actor, note?: string): Promise<AlarmDetail>;
  assign(id: string, actor: Actor, assignee: string): Promise<AlarmDetail>;
  dispatch(id: string, actor: Actor, terminal: string, note?: string): Promise<AlarmDetail>;
  resolve(id: string, actor: Actor, r: { falseAlarm?: boolean; note?: string }): Promise<AlarmDetail>;
  comment(id: string, actor: Actor, text: string): Promise<AlarmDetail>;
  raise(input: RaiseAlarm): Promise<AlarmView>;
  incidents(filter: { sites: readonly string[] | '*'; open?: boolean }): Promise<IncidentView[]>;
  /** Per site: alarms, time to acknowledge and to resolve (average and p90). */
  sla(filter: { sites: readonly string[] | '*'; from?: string; to?: string }): Promise<SlaRow[]>;
  /** Pending dispatches for a terminal's poll, each with its alarm. */
  pendingDispatches(terminal: string): Promise<Array<DispatchView & { alarm: AlarmView }>>;
  /** A terminal reports accept, arrival or feedback on a dispatch. */
  terminalReport(dispatchId: string, terminal: string, step: TerminalStep, feedback?: string): Promise<DispatchView>;
}

/** A guard's step on a dispatch, reported from the terminal. */
export type TerminalStep = 'accept' | 'arrive' | 'feedback';
