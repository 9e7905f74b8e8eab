/** A Notifier that keeps what it was asked to send: for tests, and for a dry run of an escalation policy. */
import type { AlarmView, Notifier } from './types.js';

export interface SentNotification { alarmId: string; type: string; severity: string; level: number; channel: string; }

export class RecordingNotifier implements Notifier {
  readonly sent: SentNotification[] = [];

  async notify(alarm: AlarmView, level: number, channel: string): Promise<void> {
    this.sent.push({ alarmId: alarm.id, type: alarm.type, severity: alarm.severity, level, channel });
  }

  for(alarmId: string): SentNotification[] {
    return this.sent.filter((n) => n.alarmId === alarmId);
  }
}
