/**
 * Sign-in for people (issue 15): GET /sign-in (the page), POST /auth/sign-in (user + password, or a one-time
 * link's token), GET /auth/session (who is signed in, and the CSRF token for writes), POST /auth/sign-out.
 * The session's secret is only ever in the HTTP-only cookie. Sign-in takes JSON only, so a form on another
 * site cannot post to it (a cross-site JSON POST needs a CORS preflight, which this service never grants).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CodedError } from '@safe-community/runtime';
import type { Logger } from '@safe-community/runtime';
import { installAudit } from '../api/audit.js';
import { installErrorHandling } from '../api/errors.js';
import { typeboxCompiler } from '../api/validation.js';
import { SESSION_COOKIE, clearedSessionCookie, cookieValue, sessionCookie } from '../auth/session-hooks.js';
import type { SessionStore, SignedIn } from '../auth/sessions.js';
import type { Db } from '../auth/types.js';
import type { FloodGuard } from '../flood.js';
import { COMMON_SCRIPT } from './common-script.js';
import { COMMON_SCRIPT_URL, PAGE_CSP, pageShell } from './shell.js';
import { SIGN_IN_SCRIPT } from './sign-in-script.js';

export interface SignInDeps {
  sessions: SessionStore;
  /** The service's public URL; an https one marks the cookie Secure. */
  publicUrl?: string | undefined;
  /** Where sign-ins and sign-outs, allowed or refused, are audited (api_audit, like every API write). */
  db: Db;
  logger: Logger;
  /**
   * Per-address limits before authentication (flood.ts): an address whose sign-ins keep failing gets 429
   * unread, and only its small share of refused sign-ins is audited; the rest are counted.
   */
  flood: FloodGuard;
}

const SignInBody = Type.Union([
  Type.Object({ user: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  Type.Object({ link: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
]);

export async function signInPlugin(fastify: FastifyInstance, deps: SignInDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(typeboxCompiler);
  installErrorHandling(app, { notFound: false });
  if (app.hasContentTypeParser('application/json')) app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 16 * 1024 }, app.getDefaultJsonParser('error', 'error'));
  const SIGN_IN = '/auth/sign-in';
  installAudit(app, deps.db, deps.logger, { anonymous: (req) => req.routeOptions.url === SIGN_IN && deps.flood.recordJunk(req.ip) });
  const secure = (req: FastifyRequest): boolean => req.protocol === 'https' || (deps.publicUrl ?? '').startsWith('https:');

  app.get('/sign-in', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store')
      .send(pageShell({ title: 'Sign in', script: '/sign-in.js', body: SIGN_IN_BODY })));
  for (const [url, source] of [['/sign-in.js', SIGN_IN_SCRIPT], [COMMON_SCRIPT_URL, COMMON_SCRIPT]] as const) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(source));
  }

  app.post(SIGN_IN, {
    schema: { hide: true, body: SignInBody },
    // An address whose sign-ins keep failing is refused before the password is read.
    onRequest: deps.flood.apiBefore,
    onResponse: async (req, reply) => {
      if (reply.statusCode === 401) deps.flood.apiFailed(req.ip);
    },
  }, async (req, reply) => {
    const b = req.body;
    const s: SignedIn = 'link' in b
      ? await deps.sessions.signInWithLink(b.link)
      : await deps.sessions.signInWithPassword(b.user, b.password);
    req.actor = s.actor;
    req.log.info({ user: s.actor.user, how: 'link' in b ? 'link' : 'password' }, 'signed in');
    const maxAgeSec = (Date.parse(s.expiresAt) - Date.now()) / 1000;
    return reply.header('set-cookie', sessionCookie(s.secret, { maxAgeSec, secure: secure(req) })).header('cache-control', 'no-store')
      .send({ user: s.actor, csrf: s.csrf, expiresAt: s.expiresAt });
  });

  app.get('/auth/session', { schema: { hide: true } }, async (req, reply: FastifyReply) => {
    const secret = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const s = secret ? await deps.sessions.lookup(secret) : null;
    if (!s) throw new CodedError('ERR_UNAUTHENTICATED', 'not signed in');
    return reply.header('cache-control', 'no-store').send({ user: s.actor, csrf: s.csrf, expiresAt: s.expiresAt });
  });

  app.post('/auth/sign-out', { schema: { hide: true } }, async (req, reply) => {
    const secret = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (secret) await deps.sessions.revoke(secret);
    return reply.header('set-cookie', clearedSessionCookie(secure(req))).code(204).send();
  });
}

const SIGN_IN_BODY = `<main class="narrow">
  <p id="error" role="alert"></p>
  <section id="password-form-box">
    <h1>Sign in</h1>
    <form id="password-form">
      <label>User <input id="user" name="user" autocomplete="username" required maxlength="64"></label>
      <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
      <button type="submit">Sign in</button>
    </form>
    <p class="muted">No password? Ask an administrator for a one-time sign-in link.</p>
  </section>
  <section id="link-box" hidden>
    <h1>Sign in with your link</h1>
    <p>This link signs you in once.</p>
    <button id="use-link">Continue</button>
  </section>
</main>`;
