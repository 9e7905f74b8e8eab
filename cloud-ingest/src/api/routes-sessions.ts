/** Sign-in for people, the admin side (issue 15): passwords, one-time sign-in links, ending a user's sessions. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf, type UserDirectory } from '../auth/index.js';
import type { SessionStore } from '../auth/sessions.js';
import { Id } from './schemas.js';
import { managedUserOf } from './routes-admin.js';

const UserParams = Type.Object({ user: Id }, { additionalProperties: false });

/** Where a person's browser reaches this service: the configured public URL, else the request's own host. */
export function publicBase(req: FastifyRequest, publicUrl: string | undefined): string {
  return (publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`).replace(/\/+$/, '');
}

/** Every route acts on one user, and only an admin who manages that user's sites may (a site admin never another site's). */
export function sessionAdminRoutes(fastify: FastifyInstance, users: UserDirectory, sessions: SessionStore, publicUrl: string | undefined): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.put('/users/:user/password', {
    schema: { tags: ['auth'], summary: 'Set a user\'s sign-in password (admin)', params: UserParams, body: Type.Object({ password: Type.String({ minLength: 12, maxLength: 256 }) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const user = await managedUserOf(users, req.params.user, actorOf(req));
    await sessions.setPassword(user, req.body.password);
    return reply.code(204).send();
  });

  app.post('/users/:user/sign-in-link', {
    schema: {
      tags: ['auth'], summary: 'A one-time sign-in link for a user, shown once (admin)', params: UserParams,
      body: Type.Object({ ttlMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })), next: Type.Optional(Type.String({ pattern: '^/[^/\\\\]', maxLength: 512 })) }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const user = await managedUserOf(users, req.params.user, actor);
    const b = req.body ?? {};
    const link = await sessions.issueLink(user, actor.user, b.ttlMinutes !== undefined ? b.ttlMinutes * 60 : undefined);
    // The token rides in the fragment: browsers never send it to a server, so it stays out of access logs and referrers.
    const next = b.next ? `?next=${encodeURIComponent(b.next)}` : '';
    return reply.code(201).send({ url: `${publicBase(req, publicUrl)}/sign-in${next}#link=${link.token}`, expiresAt: link.expiresAt });
  });

  app.delete('/users/:user/sessions', {
    schema: { tags: ['auth'], summary: 'End every browser session of a user (admin)', params: UserParams },
  }, async (req) => {
    const user = await managedUserOf(users, req.params.user, actorOf(req));
    return { revoked: await sessions.revokeUser(user) };
  });
}
