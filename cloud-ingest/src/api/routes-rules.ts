/**
 * Cloud rules and SLA figures. Rules are versioned rule sets (src/rules): anyone may read the active one
 * and the version history; only admins load a new version, which the engine validates (400
 * ERR_RULES_INVALID with each problem's path) and refuses unless its version is above the active one (409
 * ERR_RULES_VERSION). SLA figures (time to acknowledge, time to resolve) are per site, scoped to the caller.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf, requireManages, scopeSites, type Db } from '../auth/index.js';
import type { AlarmService } from '../alarms/types.js';
import { validateRuleSet, type RuleSet } from '../rules/schema.js';
import { Id, Timestamp } from './schemas.js';
import { iso } from './sql.js';

/** The rule engine as the API sees it: load a new version. */
export interface RulesPort {
  setRules(set: RuleSet, by: string): Promise<void>;
}

/** The SLA query of the alarm service. */
export type SlaPort = Pick<AlarmService, 'sla'>;

export function rulesRoutes(fastify: FastifyInstance, db: Db, rules: RulesPort): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/rules', { schema: { tags: ['rules'], summary: 'The active rule set and the version history' } }, async () => {
    const rows = await db.query<{ version: string | number; loaded_at: Date; loaded_by: string; body: unknown }>(
      'SELECT version, loaded_at, loaded_by, body FROM rule_sets ORDER BY version DESC');
    const active = rows[0];
    return {
      active: active ? { version: Number(active.version), loadedAt: iso(active.loaded_at), loadedBy: active.loaded_by, body: active.body } : null,
      versions: rows.map((r) => ({ version: Number(r.version), loadedAt: iso(r.loaded_at), loadedBy: r.loaded_by })),
    };
  });

  app.put('/rules', {
    schema: { tags: ['rules'], summary: 'Load a new rule set version (global admin); validated by the rule engine', body: Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: true }) },
  }, async (req) => {
    const actor = actorOf(req);
    // One rule set covers every site, so only the global admin may replace it (issue 12, item 5).
    requireManages(actor, '*', 'the cloud rule set (it covers every site)');
    // The body is the rule set itself; its full schema (four rule types) is checked here, as the engine does.
    await rules.setRules(validateRuleSet(req.body), `user:${actor.user}`);
    return { version: req.body.version };
  });
}

export function slaRoutes(fastify: FastifyInstance, sla: SlaPort): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/sla', {
    schema: {
      tags: ['alarms'], summary: 'Per-site time to acknowledge and to resolve',
      querystring: Type.Object({ site: Type.Optional(Id), from: Type.Optional(Timestamp), to: Type.Optional(Timestamp) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query;
    const f: { sites: readonly string[] | '*'; from?: string; to?: string } = { sites: scopeSites(actorOf(req), q.site) };
    if (q.from !== undefined) f.from = q.from;
    if (q.to !== undefined) f.to = q.to;
    return { sites: await sla.sla(f) };
  });
}
