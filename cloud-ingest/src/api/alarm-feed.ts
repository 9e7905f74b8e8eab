/**
 * Live alarm updates for the console and the alarm page (issue 15), as Server-Sent Events on
 * GET /api/v1/alarms/events. Every change to an alarm writes its audit trail (raise, repeat, call,
 * acknowledge, dispatch, resolve, terminal reports), so one poll of `alarm_audit` past the last id seen finds
 * every changed alarm, whichever ingest instance changed it and on either store. One poll serves all
 * subscribers; it runs only while someone listens. Each subscriber gets only its sites' alarms, through the
 * same location scoping as the REST answers. Streams end after `maxStreamMs`: the browser reconnects, and
 * the reconnect is authenticated again, so a revoked session or a disabled user stops receiving.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CodedError, createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { actorOf, siteAllowed, type Actor, type Db } from '../auth/index.js';
import type { AlarmView } from '../alarms/types.js';
import { ALARM_COLUMNS, toAlarmView } from '../alarms/rows.js';
import { scopeAlarms } from './location-scope.js';

export interface AlarmFeedOptions {
  db: Db;
  pollMs?: number;
  /** A stream is closed after this long (the browser reconnects and authenticates again). Default 5 min. */
  maxStreamMs?: number;
  /** Open streams at most, in all and per user: each holds a socket. */
  maxStreams?: number;
  maxStreamsPerUser?: number;
  /** Audit rows read per poll (default 2000); a larger burst is sent over the next polls. */
  pageRows?: number;
  clock?: Clock;
  logger?: Logger;
}

const MAX_BUFFERED_BYTES = 1024 * 1024;

interface Subscriber {
  actor: Actor;
  reply: FastifyReply;
  closeTimer: unknown;
}

export class AlarmFeed {
  private readonly subs = new Set<Subscriber>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private cursor: number | null = null;
  private timer: unknown;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: AlarmFeedOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createLogger({ name: 'alarm-feed' });
  }

  get streams(): number {
    return this.subs.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    for (const s of [...this.subs]) this.drop(s);
  }

  /** Route: GET /alarms/events. */
  register(app: FastifyInstance): void {
    app.get('/alarms/events', {
      schema: { tags: ['alarms'], summary: 'Server-Sent Events: `alarm` with each changed alarm of the caller\'s sites, `ready` once subscribed' },
    }, async (req, reply) => this.subscribe(req, reply));
  }

  private async subscribe(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const actor = actorOf(req);
    const mine = [...this.subs].filter((s) => s.actor.user === actor.user).length;
    if (this.stopped || this.subs.size >= (this.opts.maxStreams ?? 1000) || mine >= (this.opts.maxStreamsPerUser ?? 20)) {
      throw new CodedError('ERR_RATE_LIMITED', 'too many live alarm streams open; close a console tab');
    }
    // Take the cursor before answering `ready`: the client loads the list after `ready`, so no change falls between.
    if (this.cursor === null) this.cursor = await this.maxAuditId();
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    const sub: Subscriber = { actor, reply, closeTimer: undefined };
    sub.closeTimer = this.clock.setTimeout(() => this.drop(sub), this.opts.maxStreamMs ?? 300_000);
    this.subs.add(sub);
    req.raw.on('close', () => this.drop(sub));
    reply.raw.write(`retry: 2000\nevent: ready\ndata: {}\n\n`);
    this.arm();
  }

  private drop(sub: Subscriber): void {
    if (!this.subs.delete(sub)) return;
    this.clock.clearTimeout(sub.closeTimer);
    sub.reply.raw.end();
    if (this.subs.size === 0) this.cursor = null;
  }

  private arm(): void {
    if (this.timer !== undefined || this.stopped || this.subs.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.polling = this.poll()
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'alarm feed poll failed'))
        .finally(() => {
          this.timer = undefined;
          this.arm();
        });
    }, this.opts.pollMs ?? 1000);
  }

  private async maxAuditId(): Promise<number> {
    const rows = await this.opts.db.query<{ m: string | number | null }>('SELECT max(id) AS m FROM alarm_audit');
    return Number(rows[0]?.m ?? 0);
  }

  private async poll(): Promise<void> {
    if (this.cursor === null || this.subs.size === 0) return;
    // A bounded page of audit rows in id order: the cursor moves to the last row read, so a burst larger
    // than one page is sent over the next polls instead of being skipped.
    const rows = await this.opts.db.query<{ id: string | number; alarm_id: string }>(
      'SELECT id, alarm_id FROM alarm_audit WHERE id > $1 ORDER BY id LIMIT $2', [this.cursor, this.opts.pageRows ?? 2000]);
    if (rows.length === 0) return;
    const last = Number(rows[rows.length - 1]!.id);
    const ids = [...new Set(rows.map((r) => r.alarm_id))];
    const alarms = (await this.opts.db.query<Record<string, unknown>>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = ANY($1::uuid[])`, [ids])).map(toAlarmView);
    for (const sub of [...this.subs]) {
      const visible = alarms.filter((a) => siteAllowed(sub.actor, a.site));
      if (visible.length === 0) continue;
      const scoped: AlarmView[] = await scopeAlarms(this.opts.db, sub.actor, visible);
      for (const a of scoped) sub.reply.raw.write(`event: alarm\nid: ${last}\ndata: ${JSON.stringify(a)}\n\n`);
      // A reader that does not keep up is let go (it reconnects and reloads) rather than buffered without end.
      if (sub.reply.raw.writableLength > MAX_BUFFERED_BYTES) this.drop(sub);
    }
    // Moved only once every subscriber was served: a failed read is tried again on the next poll.
    if (this.cursor !== null) this.cursor = Math.max(this.cursor, last);
  }
}
