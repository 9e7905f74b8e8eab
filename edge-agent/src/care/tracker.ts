/**
 * The care rules for one resident, as a state machine over their wearable's events, telemetry and the
 * clock. It decides; it does no I/O. Every input returns what to raise (alarms) or record (notices), and
 * `nextDeadline()` says when the clock must call `check()` again (a fall's I'm-OK window ending, a quiet
 * spell reaching its limit, missed heartbeats). All state lives in a plain ResidentState so it can be saved.
 */
import type { Severity } from '@safe-community/contracts';
import type { Resident } from './residents.js';
import type { DailyWindow } from './day-night.js';
import { insidePolygon, distanceM, distanceToEdgeM } from './geo.js';
import { stepVital } from './vitals.js';
import type { Fix, ResidentState } from './state.js';

export type CareAlarmType =
  | 'care.sos' | 'care.fall' | 'care.wandering' | 'care.inactivity' | 'care.vitals' | 'care.battery_low' | 'care.device_silent';
export type CareNoticeKind = 'care.fall_cancelled' | 'care.vitals_cleared' | 'care.wandering_ended' | 'care.device_back';

/**
 * The wearable telemetry the rules read, named as the edge sends it: `<device kind>.<name>`
 * (firmware-configs `telemetryMetric`), the same names the Elderly care dashboard queries.
 */
export const CARE_METRICS = Object.freeze({
  heartRate: 'wearable.heart_rate',
  spo2: 'wearable.spo2',
  steps: 'wearable.steps',
  battery: 'wearable.battery',
  lat: 'wearable.lat',
  lon: 'wearable.lon',
} as const);

export interface CareOutput {
  kind: CareAlarmType | CareNoticeKind;
  /** Alarms go to the cloud as an alarm plus its companion event; notices as an event only. */
  alarm: boolean;
  severity: Severity;
  category: 'safety' | 'maintenance';
  reason: string;
  message: string;
  /** Unique per occurrence and stable across a restart: the record ids are derived from it. */
  key: string;
  at: number;
  episode?: { id: string; startedAt: number };
  details: Record<string, unknown>;
}

export interface TrackerSettings {
  quiet: DailyWindow;
  episodeGapMs: number;
  wanderCrossings: number;
  wanderWindowMs: number;
}

/** A second SOS press or a re-sent fall within this time is the same call for help. */
const SOS_REPEAT_MS = 5 * 60_000;
const FALL_REPEAT_MS = 2 * 60_000;
/** Moving this far counts as activity, above GPS jitter indoors. */
const MOVE_M = 50;
const KEEP_FIXES = 5;
const BATTERY_REARM_PCT = 10;

export class ResidentTracker {
  private pendingLat: { time: string; value: number } | undefined;
  private dueCache: { from: number; due: number | undefined } | undefined;

  constructor(readonly resident: Resident, readonly state: ResidentState, private readonly cfg: TrackerSettings) {}

  /**
   * Consent scope decides what is watched: `alerts` (falls), `location` (geofence, positions in records),
   * `vitals`, `activity` (inactivity). An SOS is the resident's own call and is always acted on; battery
   * and silence concern the device, not the person.
   */
  private has(scope: 'alerts' | 'location' | 'vitals' | 'activity'): boolean {
    return this.resident.consent.scope.includes(scope);
  }

  private get who(): string {
    return `${this.resident.name} (${this.resident.id})`;
  }

  private get silentAfterMs(): number {
    return this.resident.heartbeatIntervalS * this.resident.missedHeartbeats * 1000;
  }

  onEvent(kind: string, payload: Record<string, unknown>, deviceTime: string | undefined, now: number): CareOutput[] {
    const out = this.seen(now);
    const s = this.state;
    if (this.has('location') && typeof payload.lat === 'number' && typeof payload.lon === 'number') out.push(...this.onFix(payload.lat, payload.lon, now));
    const stamp = deviceTime ?? String(now);
    switch (kind) {
      case 'wearable.sos':
        this.activity(now);
        if (s.sosAt !== undefined && now - s.sosAt < SOS_REPEAT_MS) break;
        s.sosAt = now;
        out.push(this.alarm('care.sos', 'critical', 'safety', 'button', `SOS from ${this.who}`, `care.sos@${stamp}`, now, {}));
        break;
      case 'wearable.fall': {
        if (!this.has('alerts')) break;
        if (s.pendingFall || (s.fallRaisedAt !== undefined && now - s.fallRaisedAt < FALL_REPEAT_MS)) break;
        const fall = { at: now, deadline: now + this.resident.fallCancelS * 1000, eventId: stamp };
        if (this.resident.fallCancelS === 0) out.push(this.raiseFall(fall, now));
        else s.pendingFall = fall;
        break;
      }
      case 'wearable.ok':
        this.activity(now);
        if (s.pendingFall) {
          const fall = s.pendingFall;
          delete s.pendingFall;
          out.push(this.notice('care.fall_cancelled', 'resident_ok', `${this.who} pressed I'm OK after a fall`, `care.fall_cancelled@${fall.at}`, now, {
            fallAt: new Date(fall.at).toISOString(), afterMs: now - fall.at,
          }));
        }
        break;
    }
    out.push(...this.check(now));
    return out;
  }

  onTelemetry(metric: string, value: number, time: string, now: number): CareOutput[] {
    const out = this.seen(now);
    const s = this.state;
    const r = this.resident;
    switch (metric) {
      case CARE_METRICS.heartRate:
      case CARE_METRICS.spo2: {
        if (!this.has('vitals')) break;
        // The vital's own name keys the saved state, the alarm reason and the record ids (unchanged by namespacing).
        const vital = metric === CARE_METRICS.heartRate ? 'heart_rate' : 'spo2';
        const lim = vital === 'heart_rate' ? r.vitals.heartRate : r.vitals.spo2;
        const step = stepVital(s.vitals[vital], value, now, lim);
        const label = vital === 'heart_rate' ? 'heart rate' : 'SpO2';
        if (step.kind === 'raise') {
          out.push(this.alarm('care.vitals', 'major', 'safety', `${vital}_${step.dir}`,
            `${label} of ${this.who} ${step.dir === 'high' ? 'above' : 'below'} limit: ${value}`,
            `care.vitals.${vital}@${step.since}`, now, { metric, value, since: new Date(step.since).toISOString(), low: lim.low, high: lim.high }));
        } else if (step.kind === 'clear') {
          out.push(this.notice('care.vitals_cleared', `${vital}_${step.from}`, `${label} of ${this.who} back in range: ${value}`,
            `care.vitals_cleared.${vital}@${now}`, now, { metric, value }));
        }
        break;
      }
      case CARE_METRICS.battery:
        if (!s.batteryLow && value <= r.batteryLowPct) {
          s.batteryLow = true;
          out.push(this.alarm('care.battery_low', 'minor', 'maintenance', 'battery', `Wearable of ${this.who} low on battery: ${value}%`,
            `care.battery_low@${now}`, now, { battery: value }));
        } else if (s.batteryLow && value >= r.batteryLowPct + BATTERY_REARM_PCT) {
          s.batteryLow = false;
        }
        break;
      case CARE_METRICS.steps:
        // Counters reset (midnight, reboot): a drop is not movement, only a new baseline.
        if (s.lastSteps !== undefined && value > s.lastSteps) this.activity(now);
        s.lastSteps = value;
        break;
      case CARE_METRICS.lat:
        if (this.has('location')) this.pendingLat = { time, value };
        break;
      case CARE_METRICS.lon:
        // lat and lon arrive as two points of one message, with the same time.
        if (this.pendingLat?.time === time) out.push(...this.onFix(this.pendingLat.value, value, now));
        this.pendingLat = undefined;
        break;
    }
    out.push(...this.check(now));
    return out;
  }

  /** Rules that fire on time rather than on input. Safe to call at any moment, any number of times. */
  check(now: number): CareOutput[] {
    const out: CareOutput[] = [];
    const s = this.state;
    if (s.pendingFall && now >= s.pendingFall.deadline) {
      const fall = s.pendingFall;
      delete s.pendingFall;
      out.push(this.raiseFall(fall, now));
    }
    const silent = now - s.lastSeenAt >= this.silentAfterMs;
    if (silent && !s.silentRaised) {
      s.silentRaised = true;
      out.push(this.alarm('care.device_silent', 'minor', 'maintenance', 'missed_heartbeats',
        `Wearable of ${this.who} silent since ${new Date(s.lastSeenAt).toISOString()}`, `care.device_silent@${s.lastSeenAt}`, now,
        { lastSeenAt: new Date(s.lastSeenAt).toISOString(), missed: Math.floor((now - s.lastSeenAt) / (this.resident.heartbeatIntervalS * 1000)) }));
    }
    // A silent wearable says nothing about the resident: that is the device_silent alarm's job.
    const due = this.inactivityDue();
    if (!silent && due !== undefined && this.has('activity') && now >= due && s.inactivityRaisedFor !== s.lastActivityAt) {
      s.inactivityRaisedFor = s.lastActivityAt;
      out.push(this.alarm('care.inactivity', 'major', 'safety', 'no_movement',
        `No movement from ${this.who} for ${this.resident.inactivityHours} daytime hours`, `care.inactivity@${s.lastActivityAt}`, now,
        { lastActivityAt: new Date(s.lastActivityAt).toISOString() }));
    }
    const lastCrossing = s.crossings[s.crossings.length - 1];
    if (s.wandering && s.inside === true && (lastCrossing === undefined || now - lastCrossing >= this.cfg.wanderWindowMs)) {
      s.wandering = false;
      out.push(this.notice('care.wandering_ended', 'home', `${this.who} settled back home`, `care.wandering_ended@${now}`, now, {}));
    }
    if (!s.wandering && s.inside === false && this.cfg.quiet.contains(now)) out.push(this.raiseWandering('night_exit', now));
    return out;
  }

  /** When check() must run next, or undefined when nothing is waiting on the clock. */
  nextDeadline(now: number): number | undefined {
    const s = this.state;
    const times: number[] = [];
    if (s.pendingFall) times.push(s.pendingFall.deadline);
    if (!s.silentRaised) times.push(s.lastSeenAt + this.silentAfterMs);
    const due = this.inactivityDue();
    if (due !== undefined && this.has('activity') && s.inactivityRaisedFor !== s.lastActivityAt) times.push(due);
    const lastCrossing = s.crossings[s.crossings.length - 1];
    if (s.wandering && s.inside === true && lastCrossing !== undefined) times.push(lastCrossing + this.cfg.wanderWindowMs);
    if (!s.wandering && s.inside === false) {
      const night = this.cfg.quiet.nextStart(now);
      if (night !== undefined) times.push(night);
    }
    // check() ran just before: a deadline not in the future is one it could not act on (inactivity of
    // a silent wearable waits for the wearable), so it must not spin the timer.
    const ahead = times.filter((t) => t > now);
    return ahead.length === 0 ? undefined : Math.min(...ahead);
  }

  private seen(now: number): CareOutput[] {
    const s = this.state;
    s.lastSeenAt = now;
    if (!s.silentRaised) return [];
    s.silentRaised = false;
    return [this.notice('care.device_back', 'heard', `Wearable of ${this.who} heard again`, `care.device_back@${now}`, now, {})];
  }

  private activity(now: number): void {
    this.state.lastActivityAt = now;
  }

  private inactivityDue(): number | undefined {
    const from = this.state.lastActivityAt;
    if (this.dueCache?.from !== from) {
      this.dueCache = { from, due: this.cfg.quiet.afterOutside(from, this.resident.inactivityHours * 3_600_000) };
    }
    return this.dueCache.due;
  }

  private onFix(lat: number, lon: number, now: number): CareOutput[] {
    const s = this.state;
    const fence = this.resident.geofence;
    const raw = insidePolygon({ lat, lon }, fence.polygon);
    // A fix near the fence line keeps the previous side: GPS jitter there must not count as crossings.
    const inside = s.inside === undefined || raw === s.inside || distanceToEdgeM({ lat, lon }, fence.polygon) >= fence.marginM ? raw : s.inside;
    const fix: Fix = { at: now, lat, lon, inside };
    s.positions.push(fix);
    if (s.positions.length > KEEP_FIXES) s.positions.splice(0, s.positions.length - KEEP_FIXES);
    if (!s.activityFix || distanceM(s.activityFix, fix) >= MOVE_M) {
      if (s.activityFix) this.activity(now);
      s.activityFix = { lat, lon };
    }
    if (s.inside !== undefined && s.inside !== inside) s.crossings.push(now);
    s.crossings = s.crossings.filter((t) => now - t < this.cfg.wanderWindowMs);
    s.inside = inside;
    if (s.wandering) return [];
    if (!inside && this.cfg.quiet.contains(now)) return [this.raiseWandering('night_exit', now)];
    if (s.crossings.length >= this.cfg.wanderCrossings) return [this.raiseWandering('pattern', now)];
    return [];
  }

  private raiseWandering(reason: 'night_exit' | 'pattern', now: number): CareOutput {
    this.state.wandering = true;
    const text = reason === 'night_exit' ? `${this.who} left home during quiet hours` : `${this.who} is wandering in and out of home`;
    return this.alarm('care.wandering', 'major', 'safety', reason, text, `care.wandering@${now}`, now, { crossings: this.state.crossings.length });
  }

  private raiseFall(fall: { at: number; eventId: string }, now: number): CareOutput {
    this.state.fallRaisedAt = now;
    return this.alarm('care.fall', 'critical', 'safety', 'no_ok_in_window', `Fall of ${this.who}, no I'm OK within ${this.resident.fallCancelS} s`,
      `care.fall@${fall.eventId}`, now, { fallAt: new Date(fall.at).toISOString() });
  }

  private alarm(kind: CareAlarmType, severity: Severity, category: CareOutput['category'], reason: string, message: string, key: string, now: number, details: Record<string, unknown>): CareOutput {
    const o: CareOutput = { kind, alarm: true, severity, category, reason, message, key, at: now, details };
    if (category === 'safety') o.episode = this.episode(now);
    return o;
  }

  private notice(kind: CareNoticeKind, reason: string, message: string, key: string, now: number, details: Record<string, unknown>): CareOutput {
    return { kind, alarm: false, severity: 'info', category: kind === 'care.device_back' ? 'maintenance' : 'safety', reason, message, key, at: now, details };
  }

  /** Safety alarms close together belong to one episode: the cloud fuses them into one incident. */
  private episode(now: number): { id: string; startedAt: number } {
    const s = this.state;
    if (!s.episode || now - s.episode.lastAt > this.cfg.episodeGapMs) {
      const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      s.episode = { id: `${this.resident.id}-${stamp}`, startedAt: now, lastAt: now };
    }
    s.episode.lastAt = now;
    return { id: s.episode.id, startedAt: s.episode.startedAt };
  }
}
