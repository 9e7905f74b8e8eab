/**
 * Users and edge credentials (admin only). Tokens and secrets are answered once and stored hashed. A site
 * admin manages only users and edges wholly inside its own sites; only a global admin makes all-sites users
 * or moves an edge between sites (issue 12, item 5). Each refusal is a 403, recorded by the audit trail.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CodedError } from '@safe-community/runtime';
import { actorOf, isGlobalAdmin, managesSites, requireManages, requirePermission, type Db, type EdgeDirectory, type UserDirectory } from '../auth/index.js';
import { Id } from './schemas.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('security'), Type.Literal('installer'), Type.Literal('viewer')]);
const Sites = Type.Union([Type.Literal('*'), Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true })], { description: "'*' for every site" });
/** A guard team id as the residents file names it (contacts[].team of role guard_team). */
const Teams = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 100, uniqueItems: true, description: 'guard teams (elderly care): members read the location history of their team\'s residents',
});

/** Loads the user a route names (`:user`) and checks the caller is an admin who manages it (issue 12, item 5). */
export async function managedUserOf(users: UserDirectory, id: string, actor: ReturnType<typeof actorOf>): Promise<string> {
  requirePermission(actor, 'admin');
  const target = await users.getUser(id);
  if (!target) throw new CodedError('ERR_NOT_FOUND', `no user ${id}`);
  requireManages(actor, target.sites, `user ${id}`);
  return id;
}

export function adminRoutes(fastify: FastifyInstance, users: UserDirectory, edges: EdgeDirectory, db: Db): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const managedUser = (id: string, actor: ReturnType<typeof actorOf>): Promise<string> => managedUserOf(users, id, actor);

  app.get('/me', { schema: { tags: ['auth'], summary: 'The caller: user, role, sites and guard teams' } }, async (req) => actorOf(req));

  app.get('/users', { schema: { tags: ['auth'], summary: 'Users (admin)' } }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'admin');
    return { users: (await users.listUsers()).filter((u) => managesSites(actor, u.sites)) };
  });

  app.post('/users', {
    schema: { tags: ['auth'], summary: 'Create a user; the answer holds its token, shown once (admin)', body: Type.Object({ id: Id, role: Role, sites: Sites, teams: Type.Optional(Teams) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const b = req.body;
    requireManages(actor, b.sites, `a user on sites ${b.sites === '*' ? 'all' : b.sites.join(',')}`);
    const created = await users.createUser(b, actor.user);
    return reply.code(201).send({ ...created.user, token: created.token });
  });

  app.post('/users/:user/token', {
    schema: { tags: ['auth'], summary: 'Replace a user\'s token (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }) },
  }, async (req) => {
    return { token: await users.rotateToken(await managedUser(req.params.user, actorOf(req))) };
  });

  app.put('/users/:user/teams', {
    schema: { tags: ['auth'], summary: 'Replace a user\'s guard teams (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }), body: Type.Object({ teams: Teams }, { additionalProperties: false }) },
  }, async (req) => {
    return users.setTeams(await managedUser(req.params.user, actorOf(req)), req.body.teams);
  });

  app.post('/users/:user/disable', {
    schema: { tags: ['auth'], summary: 'Disable a user (admin)', params: Type.Object({ user: Id }, { additionalProperties: false }) },
  }, async (req) => {
    return users.setDisabled(await managedUser(req.params.user, actorOf(req)), true);
  });

  app.get('/edges/credentials', { schema: { tags: ['auth'], summary: 'Registered edge credentials of the caller\'s sites (admin)' } }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'admin');
    return { edges: await edges.list(actor.sites) };
  });

  app.post('/edges/:edge/credentials', {
    schema: {
      tags: ['auth'], summary: 'Issue or rotate an edge\'s secret (HTTP ingest, cloud broker, down-message key); shown once (admin)',
      params: Type.Object({ edge: Id }, { additionalProperties: false }),
      body: Type.Object({
        site: Id,
        graceS: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86400, description: 'seconds the previous secret stays valid (default 1 day)' })),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const { edge } = req.params;
    const { site, graceS } = req.body;
    requireManages(actor, [site], `site ${site}`);
    // An edge already on another site belongs to that site's admins: only a global admin moves it.
    const current = await edges.identity(edge);
    if (current && current.site !== site) requireManages(actor, [current.site], `edge ${edge}`);
    const secret = await edges.issue(edge, site, { by: actor.user, allowMove: isGlobalAdmin(actor), ...(graceS !== undefined ? { graceS } : {}) });
    return reply.code(201).send({ edge, site, secret });
  });

  app.post('/edges/:edge/disable', {
    schema: { tags: ['auth'], summary: 'Refuse an edge everywhere until a new secret is issued (admin)', params: Type.Object({ edge: Id }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    const { edge } = req.params;
    const current = await edges.identity(edge);
    if (!current) throw new CodedError('ERR_NOT_FOUND', `no edge ${edge}`);
    requireManages(actor, [current.site], `edge ${edge}`);
    await edges.disable(edge);
    return { edge, disabled: true };
  });

  app.put('/sites/:site/devices/:device/owner', {
    schema: {
      tags: ['auth'], summary: 'Move a device to another edge of its site; until then only its owner may report it (admin)',
      params: Type.Object({ site: Id, device: Id }, { additionalProperties: false }),
      body: Type.Object({ edge: Id }, { additionalProperties: false }),
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { site, device } = req.params;
    const { edge } = req.body;
    requireManages(actor, [site], `site ${site}`);
    const target = await edges.identity(edge);
    if (!target || target.site !== site) throw new CodedError('ERR_VALIDATION', `edge ${edge} is not a registered edge of site ${site}`);
    await db.query(
      `INSERT INTO device_owners (site, device, edge, moved_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (site, device) DO UPDATE SET edge = EXCLUDED.edge, moved_by = EXCLUDED.moved_by, claimed_at = now()`,
      [site, device, edge, actor.user]);
    return { site, device, edge };
  });
}
