/**
 * Commands down (issue 6 item 6): the API commands one device through its edge and tracks the command to
 * its result. A command is recorded in api_commands, then published as `{v:1,type:'command',command}` on
 * `edges/<edge>/down`; the edge executes it with read-back and reports a CommandResult, which the ingest
 * writes into command_results. The status is read from there: pending → confirmed / rejected / failed /
 * timeout (the edge gave up), or timeout here when no result came by the deadline (the command's own
 * timeout plus a grace for the edge's retries and the uplink).
 *
 * Warnings for community display screens are commands too (action `show_warning`), one per screen, so each
 * screen's delivery is tracked the same way.
 */
import { randomUUID } from 'node:crypto';
import { edgeDownTopic, validators, type Command, type DownMessage } from '@safe-community/contracts';
import { CodedError, systemClock, type Clock } from '@safe-community/runtime';
import { requirePermission, siteAllowed, scopeSites, type Actor, type Db } from '../auth/index.js';
import { Where, iso } from './sql.js';

export type Publish = (topic: string, payload: string) => Promise<void> | void;

export type CommandState = 'pending' | 'confirmed' | 'rejected' | 'failed' | 'timeout';

export interface CommandView {
  id: string;
  site: string;
  edge: string;
  device: string;
  action: string;
  params: Record<string, unknown>;
  purpose: 'command' | 'warning';
  issuedBy: string;
  issuedAt: string;
  deadline: string;
  status: CommandState;
  result: { status: string; attempts: number; latencyMs: number; at: string; detail: string | null } | null;
}

export interface CommandInput {
  site: string;
  device: string;
  action: string;
  params?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface WarningInput {
  site: string;
  message: string;
  level?: 'info' | 'warning' | 'danger';
  /** Screen device ids; default: every device of the site whose edge reports it as a 'display'. */
  screens?: string[];
  ttlSec?: number;
}

export interface CommandDeskOptions {
  db: Db;
  publish: Publish;
  clock?: Clock;
  /** Used when a request gives no timeoutMs. */
  defaultTimeoutMs?: number;
  /** Added to the timeout before the API itself calls a silent command timed out. */
  graceMs?: number;
}

interface CommandRow {
  id: string; site: string; edge: string; device: string; action: string; params: Record<string, unknown>;
  purpose: 'command' | 'warning'; issued_by: string; issued_at: Date; deadline: Date;
  r_status: string | null; r_attempts: number | null; r_latency: number | null; r_time: Date | null; r_detail: string | null;
}

// The result row is looked up by command id with a lower time bound so the partitioned table can prune;
// a day covers any edge clock skew we accept elsewhere.
const SELECT = `
  SELECT c.id, c.site, c.edge, c.device, c.action, c.params, c.purpose, c.issued_by, c.issued_at, c.deadline,
         r.status AS r_status, r.attempts AS r_attempts, r.latency_ms AS r_latency, r.time AS r_time, r.detail AS r_detail
    FROM api_commands c
    LEFT JOIN LATERAL (
      SELECT status, attempts, latency_ms, time, detail FROM command_results cr
       WHERE cr.command_id = c.id AND cr.edge = c.edge AND cr.time >= c.issued_at - interval '1 day'
       ORDER BY cr.time DESC LIMIT 1
    ) r ON true`;

export class CommandDesk {
  private readonly clock: Clock;

  constructor(private readonly opts: CommandDeskOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    // Stateless: status is derived from the tables on every read, so a restart loses nothing.
  }

  async stop(): Promise<void> {
    // Nothing held.
  }

  async issue(actor: Actor, input: CommandInput, purpose: 'command' | 'warning' = 'command'): Promise<CommandView> {
    requirePermission(actor, 'act');
    const edge = await this.edgeOf(actor, input.site, input.device);
    const now = this.clock.now();
    const timeoutMs = input.timeoutMs ?? this.opts.defaultTimeoutMs ?? 10_000;
    const command: Command = {
      id: randomUUID(), site: input.site, edge, device: input.device, action: input.action, params: input.params ?? {},
      issuedAt: new Date(now).toISOString(), issuedBy: `user:${actor.user}`, timeoutMs,
    };
    const down: DownMessage = validators.down.assert({ v: 1, type: 'command', command });
    const deadline = new Date(now + timeoutMs + (this.opts.graceMs ?? 30_000)).toISOString();
    await this.opts.db.query(
      `INSERT INTO api_commands (id, site, edge, device, action, params, issued_by, issued_at, deadline, purpose)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [command.id, command.site, edge, command.device, command.action, JSON.stringify(command.params), command.issuedBy, command.issuedAt, deadline, purpose],
    );
    try {
      await this.opts.publish(edgeDownTopic(edge), JSON.stringify(down));
    } catch (err) {
      // Not sent means not issued: remove the record so the API's answer (503) and the tables agree.
      await this.opts.db.query('DELETE FROM api_commands WHERE id = $1', [command.id]);
      throw new CodedError('ERR_PUBLISH_FAILED', `could not send the command to edge ${edge}; nothing was sent`, { cause: err });
    }
    return this.get(command.id, actor);
  }

  /** One command with its current status; ERR_COMMAND_NOT_FOUND also when it is outside the caller's sites. */
  async get(id: string, actor: Actor): Promise<CommandView> {
    const rows = await this.opts.db.query<CommandRow>(`${SELECT} WHERE c.id = $1`, [id]);
    const row = rows[0];
    if (!row || !siteAllowed(actor, row.site)) throw new CodedError('ERR_COMMAND_NOT_FOUND', `no command ${id}`);
    return this.view(row);
  }

  async list(actor: Actor, q: { site?: string; device?: string; limit?: number }): Promise<CommandView[]> {
    const w = new Where().sites('c.site', scopeSites(actor, q.site));
    if (q.device !== undefined) w.add('c.device = ?', q.device);
    const rows = await this.opts.db.query<CommandRow>(`${SELECT} ${w} ORDER BY c.issued_at DESC, c.id LIMIT ${w.next()}`, [...w.params, q.limit ?? 100]);
    return rows.map((r) => this.view(r));
  }

  /** One show_warning command per screen; the answer lists each so the caller can follow every screen. */
  async warn(actor: Actor, input: WarningInput): Promise<CommandView[]> {
    requirePermission(actor, 'act');
    if (!siteAllowed(actor, input.site)) throw new CodedError('ERR_NO_DISPLAYS', `no display screens at site ${input.site}`);
    const screens = input.screens ?? (await this.opts.db.query<{ device: string }>(
      `SELECT device FROM device_status WHERE site = $1 AND kind = 'display' ORDER BY device`, [input.site])).map((r) => r.device);
    if (screens.length === 0) throw new CodedError('ERR_NO_DISPLAYS', `no display screens at site ${input.site}`);
    // Every screen must exist before any is sent, so a typo does not leave half the screens warned.
    for (const s of screens) await this.edgeOf(actor, input.site, s);
    const out: CommandView[] = [];
    for (const device of screens) {
      out.push(await this.issue(actor, {
        site: input.site, device, action: 'show_warning',
        params: { message: input.message, level: input.level ?? 'warning', ttlSec: input.ttlSec ?? 600 },
      }, 'warning'));
    }
    return out;
  }

  private async edgeOf(actor: Actor, site: string, device: string): Promise<string> {
    const notFound = new CodedError('ERR_DEVICE_NOT_FOUND', `no device ${device} at site ${site}`);
    if (!siteAllowed(actor, site)) throw notFound;
    // The device's owner (issue 12, item 4: one edge per device until an admin moves it), never simply the
    // last edge that reported it; device_status only for devices known from before owners were kept.
    const rows = await this.opts.db.query<{ edge: string }>(
      `SELECT edge FROM device_owners WHERE site = $1 AND device = $2
       UNION ALL SELECT edge FROM device_status WHERE site = $1 AND device = $2 AND NOT EXISTS (SELECT 1 FROM device_owners WHERE site = $1 AND device = $2)`,
      [site, device]);
    const row = rows[0];
    if (!row) throw notFound;
    return row.edge;
  }

  private view(r: CommandRow): CommandView {
    const deadline = new Date(r.deadline).getTime();
    const status: CommandState = r.r_status !== null
      ? (['confirmed', 'rejected', 'failed', 'timeout'].includes(r.r_status) ? r.r_status as CommandState : 'failed')
      : this.clock.now() >= deadline ? 'timeout' : 'pending';
    return {
      id: r.id, site: r.site, edge: r.edge, device: r.device, action: r.action, params: r.params, purpose: r.purpose,
      issuedBy: r.issued_by, issuedAt: iso(r.issued_at)!, deadline: iso(r.deadline)!, status,
      result: r.r_status === null ? null : {
        status: r.r_status, attempts: Number(r.r_attempts), latencyMs: Number(r.r_latency), at: iso(r.r_time)!, detail: r.r_detail,
      },
    };
  }
}
