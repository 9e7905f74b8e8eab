/**
 * GET /alarms/:id/clips/:clip: an alarm's video clip (video/mp4) with range requests, for whoever may see the
 * alarm (the same rule as the alarm and its pictures: read permission and the alarm's site). Video elements
 * fetch a clip in many ranges; a view is audited once, on the request that starts at byte 0 (or asks for
 * the whole clip), not once per range.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CodedError, type Logger } from '@safe-community/runtime';
import { actorOf, requirePermission, type Db } from '../auth/index.js';
import type { AlarmService } from '../alarms/types.js';
import { writeAudit } from '../api/audit.js';
import { Uuid } from '../api/schemas.js';
import { getClip } from './clips-db.js';
import { parseRange } from './range.js';
import type { EvidenceStore } from './store.js';

const Params = Type.Object({ id: Uuid, clip: Uuid }, { additionalProperties: false });

export function clipRoutes(app: FastifyInstance, deps: { db: Db; store: EvidenceStore; alarms: AlarmService; logger: Logger }): void {
  app.get('/alarms/:id/clips/:clip', {
    schema: { tags: ['alarms'], summary: 'One of the alarm\'s video clips (video/mp4, HTTP range requests); each view is audited', params: Params },
  }, async (req, reply) => {
    const actor = actorOf(req);
    requirePermission(actor, 'read');
    const { id, clip } = req.params as { id: string; clip: string };
    // 404 for an alarm outside the caller's sites, as the alarm itself answers.
    const alarm = await deps.alarms.get(id, actor);
    const listed = alarm.evidence.clips.find((c) => c.clip === clip.toLowerCase());
    if (!listed) throw new CodedError('ERR_EVIDENCE_NOT_FOUND', 'this alarm has no such clip');
    const row = await getClip(deps.db, listed.clip);
    if (!row || row.status !== 'ready' || !row.storageKey || row.site !== alarm.site) {
      throw new CodedError('ERR_EVIDENCE_PENDING', 'the clip is announced but not uploaded yet');
    }
    const asked = parseRange(req.headers.range, row.bytes);
    reply.header('accept-ranges', 'bytes').header('cache-control', 'private, max-age=300');
    if (asked.kind === 'unsatisfiable') {
      return reply.code(416).header('content-range', `bytes */${row.bytes}`)
        .send({ code: 'ERR_RANGE', message: `the range ${String(req.headers.range).slice(0, 80)} lies outside the clip's ${row.bytes} bytes`, requestId: req.id });
    }
    const range = asked.kind === 'part' ? asked.range : undefined;
    // Audited before a byte is sent: a view that cannot be recorded is not given.
    if (req.method === 'GET' && (!range || range.start === 0)) {
      await writeAudit(deps.db, {
        actor: actor.user, role: actor.role, requestId: String(req.id), method: 'GET', route: req.routeOptions.url ?? '/alarms/:id/clips/:clip',
        target: id, status: range ? 206 : 200, code: null, detail: { action: 'evidence.view', clip: row.clip, camera: row.camera, site: row.site },
      }).catch((err: unknown) => {
        deps.logger.error({ err: (err as Error).message, reqId: req.id }, 'clip view audit row not written; view refused');
        throw new CodedError('ERR_STORE_UNAVAILABLE', 'the view could not be recorded; retry later', { cause: err });
      });
    }
    const stream = await deps.store.read(row.storageKey, row.site, range);
    reply.type('video/mp4');
    if (!range) return reply.code(200).header('content-length', String(row.bytes)).send(stream);
    return reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${row.bytes}`)
      .header('content-length', String(range.end - range.start + 1)).send(stream);
  });
}
