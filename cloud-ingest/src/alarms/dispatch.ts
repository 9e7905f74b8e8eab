/**
 * Dispatch to guards' handheld terminals. The alarm service writes the dispatch record and publishes it on
 * `terminals/<id>/dispatch`; a terminal that cannot hold an MQTT session polls `pending()` over HTTP
 * instead. What the terminal reports back (accepted, arrived, feedback) is written on the dispatch and
 * in the alarm's audit trail, in one transaction with the dispatch row locked.
 */
import { ID_RE, UUID_RE } from '@safe-community/contracts';
import { CodedError, type Clock } from '@safe-community/runtime';
import type { Db } from '../store/db.js';
import { ALARM_COLUMNS, toAlarmView, toDispatchView } from './rows.js';
import { audit } from './queries.js';
import type { AlarmDispatchRow } from '../store/rows.js';
import type { AlarmView, DispatchView, TerminalStep } from './types.js';

export const terminalDispatchTopic = (terminal: string): string => {
  if (!ID_RE.test(terminal)) throw new CodedError('ERR_VALIDATION', `not a terminal id: ${terminal}`);
  return `terminals/${terminal}/dispatch`;
};

/** Where a guard team's terminals hear the calls of a care incident (the same channel as dispatches). */
export const terminalCallTopic = (team: string): string => {
  if (!ID_RE.test(team)) throw new CodedError('ERR_VALIDATION', `not a team id: ${team}`);
  return `terminals/${team}/call`;
};


const NEXT: Record<TerminalStep, { from: readonly DispatchView['status'][]; to: DispatchView['status']; column: string }> = {
  accept: { from: ['sent'], to: 'accepted', column: 'accepted_at' },
  arrive: { from: ['sent', 'accepted'], to: 'arrived', column: 'arrived_at' },
  feedback: { from: ['sent', 'accepted', 'arrived'], to: 'done', column: 'feedback_at' },
};

export class Dispatches {
  constructor(private readonly db: Db, private readonly clock: Clock) {}

  /** Dispatches a terminal still has to act on, newest last, each with its alarm. */
  async pending(terminal: string): Promise<Array<DispatchView & { alarm: AlarmView }>> {
    if (!ID_RE.test(terminal)) throw new CodedError('ERR_VALIDATION', `not a terminal id: ${terminal}`);
    const rows = (await this.db.query(
      `SELECT d.*, ${ALARM_COLUMNS.split(',').map((c) => `a.${c.trim()} AS a_${c.trim()}`).join(', ')}
         FROM alarm_dispatches d JOIN alarms a ON a.id = d.alarm_id
        WHERE d.terminal = $1 AND d.status IN ('sent','accepted','arrived') ORDER BY d.sent_at, d.id`,
      [terminal],
    )).rows as Array<Record<string, unknown>>;
    return rows.map((r) => {
      const a: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) if (k.startsWith('a_')) a[k.slice(2)] = v;
      return { ...toDispatchView(r), alarm: toAlarmView(a) };
    });
  }

  /** A terminal reports a step; ERR_DISPATCH_NOT_FOUND when the dispatch is not this terminal's. */
  async report(dispatchId: string, terminal: string, step: TerminalStep, feedback?: string): Promise<DispatchView> {
    if (!UUID_RE.test(dispatchId)) throw new CodedError('ERR_DISPATCH_NOT_FOUND', `no dispatch ${dispatchId}`);
    if (step === 'feedback' && (typeof feedback !== 'string' || feedback.length === 0 || feedback.length > 2000)) {
      throw new CodedError('ERR_VALIDATION', 'feedback needs 1..2000 characters of text');
    }
    const at = new Date(this.clock.now()).toISOString();
    return this.db.tx(async (tx) => {
      const d = (await tx.query<AlarmDispatchRow>('SELECT * FROM alarm_dispatches WHERE id = $1 AND terminal = $2 FOR UPDATE', [dispatchId, terminal])).rows[0];
      if (!d) throw new CodedError('ERR_DISPATCH_NOT_FOUND', `no dispatch ${dispatchId} for terminal ${terminal}`);
      const rule = NEXT[step];
      if (!rule.from.includes(d.status)) {
        throw new CodedError('ERR_DISPATCH_STATE', `cannot ${step} a dispatch that is ${d.status}`);
      }
      const row = (await tx.query<AlarmDispatchRow>(
        `UPDATE alarm_dispatches SET status = $2, ${rule.column} = $3, feedback = COALESCE($4, feedback) WHERE id = $1 RETURNING *`,
        [dispatchId, rule.to, at, step === 'feedback' ? feedback : null],
      )).rows[0];
      await audit(tx, String(d.alarm_id), at, `terminal:${terminal}`, `dispatch.${rule.to}`, null, null,
        { dispatchId, ...(step === 'feedback' ? { feedback } : {}) });
      // The row is locked above, so the update finds it.
      return toDispatchView(row!);
    });
  }
}
