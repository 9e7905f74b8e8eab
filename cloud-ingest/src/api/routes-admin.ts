/** Users and edge credentials (admin only). Tokens and secrets are answered once and stored hashed. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { actorOf, requirePermission, type UserDirectory } from '../auth/index.js';
import { Id } from './schemas.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('security'), Type.Literal('installer'), Type.Literal('viewer')]);
const Sites = Type.Union([Type.Literal('*'), Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true })], { description: "'*' for every site" });
/** A guard team id as the residents file names it (contacts[].team of role guard_team). */
const Teams = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 100, uniqueItems: true, description: 'guard teams (elderly care): members read the location history of their team\'s residents',
});

export function adminRoutes(app: FastifyInstance, users: UserDirectory): void {
  app.get('/me', { schema: { tags: ['auth'], summary: 'The caller: user, role, sites and guard teams' } }, async (req) => actorOf(req));

  app.get('/users', { schema: { tags: ['auth'], summary: 'Users (admin)' } }, async (req) => {
    requirePermission(actorOf(req), 'admin');
    return { users: await users.listUsers() };
  });

  app.post('/users', {
    schema: { tags: ['auth'], summary: 'Create a user; the answer holds its token, shown once (admin)', body: Type.Object({ id: Id, role: Role, sites: Sites, teams: Type.Optional(Teams) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const actor = actorOf(req);
    requirePermission(actor, 'admin');
    const b = req.body as { id: string; role: 'admin' | 'security' | 'installer' | 'viewer'; sites: '*' | string[]; teams?: string[] };
    const created = await users.createUser(b, actor.user);
    return reply.code(201).send({ ...created.user, token: created.token });
  });

  app.post('/users/:user/token', {
    schema: { tags: ['auth'], summary: 'Replace a user\'s token (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }) },
  }, async (req) => {
    requirePermission(actorOf(req), 'admin');
    return { token: await users.rotateToken((req.params as { user: string }).user) };
  });

  app.put('/users/:user/teams', {
    schema: { tags: ['auth'], summary: 'Replace a user\'s guard teams (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }), body: Type.Object({ teams: Teams }, { additionalProperties: false }) },
  }, async (req) => {
    requirePermission(actorOf(req), 'admin');
    return users.setTeams((req.params as { user: string }).user, (req.body as { teams: string[] }).teams);
  });

  app.post('/users/:user/disable', {
    schema: { tags: ['auth'], summary: 'Disable a user (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }) },
  }, async (req) => {
    requirePermission(actorOf(req), 'admin');
    return users.setDisabled((req.params as { user: string }).user, true);
  });

  app.post('/edges/:edge/credentials', {
    schema: { tags: ['auth'], summary: 'Issue the secret an edge uses for the HTTP ingest (admin)', params: Type.Object({ edge: Id }, { additionalProperties: false }), body: Type.Object({ site: Id }, { additionalProperties: false }) },
  }, async (req, reply) => {
    requirePermission(actorOf(req), 'admin');
    const edge = (req.params as { edge: string }).edge;
    const site = (req.body as { site: string }).site;
    return reply.code(201).send({ edge, site, secret: await users.issueEdgeSecret(edge, site) });
  });
}
