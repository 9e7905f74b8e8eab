/**
 * Repeat-until-acknowledged: an open alarm is notified again every `repeatSec` of its severity, and moves
 * up a level (duty → supervisor → manager…) at each of `levelsAfterSec` after it was raised. The next
 * step is one persisted timer per alarm, so a restart neither drops nor doubles an escalation.
 */
import type { Clock } from '@safe-community/runtime';
import type { Tx } from '../store/db.js';
import { audit, lockAlarm } from './queries.js';
import { cancelTimer, scheduleTimer, type TimerHandler } from './timers.js';
import type { AlarmView, EscalationStep, Notifier, Severity } from './types.js';

export const ESCALATE_TIMER = 'alarm.escalate';

export const DEFAULT_ESCALATION: Readonly<Record<Severity, EscalationStep>> = {
  info: { repeatSec: 0, levelsAfterSec: [] },
  minor: { repeatSec: 1800, levelsAfterSec: [3600] },
  major: { repeatSec: 300, levelsAfterSec: [900, 3600] },
  critical: { repeatSec: 60, levelsAfterSec: [180, 600] },
};

export const DEFAULT_CHANNELS: readonly string[] = ['duty', 'supervisor', 'manager'];

export interface EscalationConfig {
  policy: Readonly<Record<Severity, EscalationStep>>;
  channels: readonly string[];
}

export const channelFor = (cfg: EscalationConfig, level: number): string =>
  cfg.channels[Math.min(level, cfg.channels.length - 1)] ?? 'default';

/** When the alarm's next repeat or level change is due (ms), or undefined when nothing more will happen. */
export function nextDue(step: EscalationStep, raisedMs: number, nowMs: number): number | undefined {
  const candidates: number[] = [];
  if (step.repeatSec > 0) candidates.push(nowMs + step.repeatSec * 1000);
  const level = step.levelsAfterSec.map((s) => raisedMs + s * 1000).find((t) => t > nowMs);
  if (level !== undefined) candidates.push(level);
  return candidates.length ? Math.min(...candidates) : undefined;
}

/** The level an alarm (or incident) escalating since `startedMs` has reached at `nowMs`. */
export const levelAt = (step: EscalationStep, startedMs: number, nowMs: number): number =>
  step.levelsAfterSec.filter((s) => startedMs + s * 1000 <= nowMs).length;

export async function scheduleEscalation(tx: Tx, cfg: EscalationConfig, a: Pick<AlarmView, 'id' | 'severity' | 'raisedAt'>, nowMs: number): Promise<void> {
  const due = nextDue(cfg.policy[a.severity], Date.parse(a.raisedAt), nowMs);
  if (due === undefined) await cancelTimer(tx, ESCALATE_TIMER, a.id);
  else await scheduleTimer(tx, ESCALATE_TIMER, a.id, due);
}

export function escalationHandler(cfg: EscalationConfig, clock: Clock, notifier: Notifier): TimerHandler {
  return async (timer, tx) => {
    const a = await lockAlarm(tx, timer.key);
    // Acknowledged, dispatched or closed in the meantime: the repeats end here.
    if (!a || a.state !== 'open') return;
    const now = clock.now();
    const at = new Date(now).toISOString();
    const step = cfg.policy[a.severity];
    const level = levelAt(step, Date.parse(a.raisedAt), now);
    const channel = channelFor(cfg, level);
    const raised = level > a.escalationLevel;
    await tx.query('UPDATE alarms SET escalation_level = GREATEST(escalation_level, $2), notifications = notifications + 1 WHERE id = $1', [a.id, level]);
    await audit(tx, a.id, at, 'system', raised ? 'escalated' : 'notified', a.state, a.state,
      raised ? { level, from: a.escalationLevel, channel } : { level, channel, repeat: true });
    await scheduleEscalation(tx, cfg, a, now);
    const view: AlarmView = { ...a, escalationLevel: Math.max(level, a.escalationLevel) };
    return () => notifier.notify(view, view.escalationLevel, channel);
  };
}
