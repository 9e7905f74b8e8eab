/**
 * A Notifier that hands each call to an HTTP endpoint: the deployment's SMS or voice gateway, a chat bot,
 * a paging system. One POST per call, JSON:
 *   {v:1, type:'call', channel, level, sentAt, alarm:{id, site, device, type, severity, state, message,
 *    raisedAt, incidentId, escalationLevel, tags}}
 * `channel` says whom to reach (`duty`, `guard_team:<team>`, `family:<name>`, `manager`…); the gateway
 * maps it to numbers. A resident's last fix (`last_lat`/`last_lon`/`last_fix_at`) goes only to the
 * resident's own guard team and family; other channels get the alarm without it. A failed POST (network
 * error, timeout, a non-2xx answer) is tried again with backoff, then reported as ERR_NOTIFY_FAILED (the
 * alarm service logs it; the call is repeated at the next escalation step anyway).
 */
import { Backoff, CodedError, type Logger } from '@safe-community/runtime';
import { withoutFix } from '../care/positions.js';
import type { AlarmView, Notifier } from './types.js';

export interface WebhookNotifierOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string | null;
  /** Per attempt. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts in all. Default 3. */
  attempts?: number;
  /** First wait between attempts. Default 500 ms, doubling. */
  retryMs?: number;
  logger?: Logger;
  now?: () => number;
}

const mayKnowPosition = (channel: string): boolean => channel.startsWith('guard_team:') || channel.startsWith('family:');

export class WebhookNotifier implements Notifier {
  private readonly url: URL;

  constructor(private readonly opts: WebhookNotifierOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new CodedError('ERR_CONFIG', `notify.webhookUrl: not a URL: "${opts.url}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CodedError('ERR_CONFIG', `notify.webhookUrl: must be http: or https:, not ${url.protocol}`);
    }
    this.url = url;
  }

  async notify(alarm: AlarmView, level: number, channel: string): Promise<void> {
    const tags = mayKnowPosition(channel) ? alarm.tags : withoutFix(alarm.tags);
    const body = JSON.stringify({
      v: 1, type: 'call', channel, level, sentAt: new Date((this.opts.now ?? Date.now)()).toISOString(),
      alarm: {
        id: alarm.id, site: alarm.site, device: alarm.device, type: alarm.type, severity: alarm.severity, state: alarm.state,
        message: alarm.message, raisedAt: alarm.raisedAt, incidentId: alarm.incidentId, escalationLevel: alarm.escalationLevel, tags,
      },
    });
    const attempts = this.opts.attempts ?? 3;
    const backoff = new Backoff({ initialMs: this.opts.retryMs ?? 500, maxMs: 10_000, jitter: 0.2 });
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message;
      }
      if (attempt < attempts) {
        const delay = backoff.next();
        this.opts.logger?.warn({ channel, alarm: alarm.id, attempt, err: last, retryInMs: delay }, 'call not delivered; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    throw new CodedError('ERR_NOTIFY_FAILED', `call to ${channel} about alarm ${alarm.id} not delivered after ${attempts} attempts: ${last}`);
  }
}
