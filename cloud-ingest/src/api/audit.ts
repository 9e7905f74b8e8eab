/**
 * The audit trail of API writes (issue 6: "every write audited"). Every authenticated request other than
 * GET/HEAD/OPTIONS is recorded as the answer goes out, allowed or refused: actor, route, target id, status, error code and
 * request id. It is written in onSend, before the client sees the answer, so a client that got an answer
 * can rely on the row being there. A failed audit write is logged at error and does not change the answer:
 * the action it describes has already happened.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@safe-community/runtime';
import type { Db } from '../auth/index.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuditRecord {
  actor: string | null;
  role: string | null;
  requestId: string;
  method: string;
  route: string;
  target: string | null;
  status: number;
  code: string | null;
  detail: Record<string, unknown> | null;
}

export async function writeAudit(db: Db, r: AuditRecord): Promise<void> {
  await db.query(
    `INSERT INTO api_audit (actor, role, request_id, method, route, target, status, code, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [r.actor, r.role, r.requestId, r.method, r.route, r.target, r.status, r.code, r.detail === null ? null : JSON.stringify(r.detail)],
  );
}

function targetOf(req: FastifyRequest): string | null {
  const params = (req.params ?? {}) as Record<string, unknown>;
  for (const key of ['id', 'edge', 'user', 'site']) if (typeof params[key] === 'string') return params[key] as string;
  const body = req.body;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.device === 'string') return typeof b.site === 'string' ? `${b.site}/${b.device}` : b.device;
    if (typeof b.site === 'string') return b.site;
    if (typeof b.id === 'string') return b.id;
    // A sign-in names the user it is for (the password itself is never copied).
    if (typeof b.user === 'string') return b.user;
  }
  return null;
}

/** The payload's error code when the answer is an error, so refused writes are searchable by code. */
function codeOf(payload: unknown, status: number): string | null {
  if (status < 400 || typeof payload !== 'string') return null;
  const m = /"code":"([A-Z0-9_]+)"/.exec(payload);
  return m ? m[1]! : null;
}

export interface AuditOptions {
  /**
   * Whether a write with no authenticated actor is recorded anyway (a sign-in attempt names the person it was
   * for). Default never: a flood of refused requests must cost nothing stored.
   */
  anonymous?: (req: FastifyRequest) => boolean;
}

export function installAudit(app: FastifyInstance, db: Db, log: Logger, opts: AuditOptions = {}): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    // A request refused before authentication (401, or 429 from the flood guard) leaves no row: a flood of
    // them must cost nothing stored (issue 13); they are counted in /metrics instead (flood.ts).
    if (READS.has(req.method) || (!req.actor && !opts.anonymous?.(req))) return payload;
    const status = reply.statusCode;
    // Bodies are not copied wholesale: they may carry tokens (user creation answers) or long text.
    const detail: Record<string, unknown> = {};
    const body = req.body && typeof req.body === 'object' ? req.body as Record<string, unknown> : null;
    if (body) for (const key of ['action', 'role', 'terminal', 'assignee', 'falseAlarm', 'severity', 'type', 'allowUnblurred', 'retentionDays']) if (key in body) detail[key] = body[key];
    try {
      await writeAudit(db, {
        actor: req.actor?.user ?? null,
        role: req.actor?.role ?? null,
        requestId: String(req.id),
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0] ?? '',
        target: targetOf(req),
        status,
        code: codeOf(payload, status),
        detail: Object.keys(detail).length > 0 ? detail : null,
      });
    } catch (err) {
      log.error({ err: (err as Error).message, reqId: req.id, route: req.routeOptions.url }, 'audit row not written');
    }
    return payload;
  });
}
