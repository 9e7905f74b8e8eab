/**
 * The staff pages: sign-in (sign-in.ts), the alarm console (GET /console), the alarm page Grafana links to
 * (GET /alarms/:id), their scripts, and the alarm's pictures (GET /alarms/:id/snapshot, the first, as
 * Grafana's "Open snapshot" link has it; GET /alarms/:id/snapshots/:n, each). Pictures are read with the
 * session cookie or a bearer token, scoped like the API; a browser that is not signed in is sent to the
 * sign-in page and comes back (issue 15: a click on a Grafana link got 401).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Uuid } from '@safe-community/contracts';
import { errorCode } from '@safe-community/runtime';
import { actorOf, requirePermission, type UserDirectory } from '../auth/index.js';
import { sessionOrBearerHook } from '../auth/session-hooks.js';
import type { SessionStore } from '../auth/sessions.js';
import type { AlarmService } from '../alarms/types.js';
import { installErrorHandling } from '../api/errors.js';
import { typeboxCompiler } from '../api/validation.js';
import { CONSOLE_SCRIPT } from './console-script.js';
import { alarmPageHtml, consoleHtml } from './html.js';
import { ALARM_PAGE_SCRIPT } from './script.js';
import { PAGE_CSP } from './shell.js';
import { readSnapshot } from './snapshots.js';

export interface AlarmPageDeps {
  users: UserDirectory;
  sessions: SessionStore;
  alarms: AlarmService;
  /** Where the API is mounted, e.g. /api/v1. */
  apiBase: string;
  /** The edges' snapshots, one folder per site (`<dir>/<site>/<camera>/<file>.jpg`); snapshots answer 404 without it. */
  snapshotsDir?: string | undefined;
}

// The common script (/staff-common.js) is served by the sign-in plugin, which is there even without alarms.
const SCRIPTS: ReadonlyArray<[string, string]> = [['/alarm-page.js', ALARM_PAGE_SCRIPT], ['/console.js', CONSOLE_SCRIPT]];

const html = (reply: FastifyReply, body: string): FastifyReply =>
  reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store').send(body);

export async function alarmPagePlugin(fastify: FastifyInstance, deps: AlarmPageDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(typeboxCompiler);
  installErrorHandling(app);
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
  const PictureParams = Type.Object({ id: Uuid, n: Type.Integer({ minimum: 0, maximum: 99 }) }, { additionalProperties: false });

  for (const [url, source] of SCRIPTS) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(source));
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console', 303));
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => html(reply, consoleHtml(deps.apiBase, '/console.js')));
  app.get('/alarms/:id', { schema: { hide: true, params: Params } }, async (req, reply) =>
    html(reply, alarmPageHtml(req.params.id, deps.apiBase, '/alarm-page.js')));

  app.register(async (plain) => {
    const secured = plain.withTypeProvider<TypeBoxTypeProvider>();
    const authenticate = sessionOrBearerHook(deps.users, deps.sessions);
    secured.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        await authenticate(req, reply);
      } catch (err) {
        // A person clicking a link is sent to sign in and brought back; a program gets the 401.
        if (errorCode(err) === 'ERR_UNAUTHENTICATED' && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
          return reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
        }
        throw err;
      }
      return undefined;
    });
    const picture = async (req: FastifyRequest, reply: FastifyReply, id: string, n: number): Promise<FastifyReply> => {
      const actor = actorOf(req);
      requirePermission(actor, 'read');
      const alarm = await deps.alarms.get(id, actor);
      const ref = alarm.evidence.snapshots[n];
      if (ref === undefined) return reply.code(404).send({ code: 'ERR_SNAPSHOT_NOT_FOUND', message: 'this alarm has no such snapshot', requestId: req.id });
      const jpeg = await readSnapshot(deps.snapshotsDir, alarm.site, ref);
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=300').send(jpeg);
    };
    secured.get('/alarms/:id/snapshot', {
      schema: { tags: ['alarms'], summary: 'The alarm\'s first picture (JPEG), when its evidence has one', params: Params },
    }, async (req, reply) => picture(req, reply, req.params.id, 0));
    secured.get('/alarms/:id/snapshots/:n', {
      schema: { tags: ['alarms'], summary: 'The alarm\'s n-th picture (JPEG; 0 first): its source event\'s, then the linkage\'s', params: PictureParams },
    }, async (req, reply) => picture(req, reply, req.params.id, req.params.n));
  });
}
