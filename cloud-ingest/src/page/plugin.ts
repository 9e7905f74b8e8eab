/**
 * The alarm page that Grafana's alarm table links to: GET /alarms/:id (HTML), its script, and
 * GET /alarms/:id/snapshot (the stored JPEG, behind the same bearer token and site scoping as the API).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Uuid } from '@safe-community/contracts';
import { actorOf, requirePermission, userAuthHook, type UserDirectory } from '../auth/index.js';
import type { AlarmService } from '../alarms/types.js';
import { installErrorHandling } from '../api/errors.js';
import { typeboxCompiler } from '../api/validation.js';
import { alarmPageHtml } from './html.js';
import { ALARM_PAGE_SCRIPT } from './script.js';
import { readSnapshot } from './snapshots.js';

export interface AlarmPageDeps {
  users: UserDirectory;
  alarms: AlarmService;
  /** Where the API is mounted, e.g. /api/v1. */
  apiBase: string;
  /** The edges' snapshots, one folder per site (`<dir>/<site>/<camera>/<file>.jpg`); snapshots answer 404 without it. */
  snapshotsDir?: string | undefined;
}

const SCRIPT_URL = '/alarm-page.js';
// The page fetches only from its own origin and runs only its own script; the snapshot is a blob: URL.
const CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

export async function alarmPagePlugin(app: FastifyInstance, deps: AlarmPageDeps): Promise<void> {
  app.setValidatorCompiler(typeboxCompiler);
  installErrorHandling(app);
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  app.get(SCRIPT_URL, { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(ALARM_PAGE_SCRIPT));

  app.get('/alarms/:id', { schema: { hide: true, params: Params } }, async (req, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).header('cache-control', 'no-store')
      .send(alarmPageHtml((req.params as { id: string }).id, deps.apiBase, SCRIPT_URL)));

  app.register(async (secured) => {
    secured.addHook('onRequest', userAuthHook(deps.users));
    secured.get('/alarms/:id/snapshot', {
      schema: { tags: ['alarms'], summary: 'The alarm\'s snapshot (JPEG), when its evidence has one', params: Params },
    }, async (req, reply) => {
      const actor = actorOf(req);
      requirePermission(actor, 'read');
      const alarm = await deps.alarms.get((req.params as { id: string }).id, actor);
      const ref = alarm.evidence.snapshots[0];
      if (ref === undefined) return reply.code(404).send({ code: 'ERR_SNAPSHOT_NOT_FOUND', message: 'this alarm has no snapshot', requestId: req.id });
      const jpeg = await readSnapshot(deps.snapshotsDir, alarm.site, ref);
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=300').send(jpeg);
    });
  });
}
