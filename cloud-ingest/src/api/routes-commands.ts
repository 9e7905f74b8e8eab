/** Commands down to devices, and warnings to community display screens. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import type { CommandDesk } from './commands.js';
import { Id, IdParams, Limit } from './schemas.js';

const CommandBody = Type.Object({
  site: Id,
  device: Id,
  action: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32, description: 'e.g. hold_open, raise, goto_preset' }),
  params: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
}, { additionalProperties: false });

const WarningBody = Type.Object({
  site: Id,
  message: Type.String({ minLength: 1, maxLength: 280 }),
  level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('danger')])),
  screens: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 200, uniqueItems: true })),
  ttlSec: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
}, { additionalProperties: false });

export function commandRoutes(fastify: FastifyInstance, desk: CommandDesk): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/commands', {
    schema: { tags: ['commands'], summary: 'Command one device through its edge (security, admin)', body: CommandBody },
  }, async (req, reply) => {
    const view = await desk.issue(actorOf(req), req.body);
    return reply.code(202).send(view);
  });

  app.get('/commands/:id', {
    schema: { tags: ['commands'], summary: 'A command with its status: pending, confirmed, rejected, failed or timeout', params: IdParams },
  }, async (req) => desk.get(req.params.id, actorOf(req)));

  app.get('/commands', {
    schema: {
      tags: ['commands'], summary: 'Recent commands, newest first',
      querystring: Type.Object({ site: Type.Optional(Id), device: Type.Optional(Id), limit: Type.Optional(Limit) }, { additionalProperties: false }),
    },
  }, async (req) => ({ commands: await desk.list(actorOf(req), req.query) }));

  app.post('/warnings', {
    schema: { tags: ['commands'], summary: 'Show a warning on the site\'s display screens (security, admin)', body: WarningBody },
  }, async (req, reply) => {
    const commands = await desk.warn(actorOf(req), req.body);
    return reply.code(202).send({ commands });
  });
}
