/**
 * Per-site evidence settings (issue 16, item 3): whether the site accepts clips with faces unblurred, and how
 * long its clips are kept. Read and changed by the site's admins only; each change is a write of the API, so
 * its audit row (api/audit.ts) names the admin, the site and the new values.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { actorOf, requireManages, type Db } from '../auth/index.js';
import { Id } from '../api/schemas.js';
import { readSettings, writeSettings, type EvidenceSettings } from './clips-db.js';

const Params = Type.Object({ site: Id }, { additionalProperties: false });
const Body = Type.Object({
  allowUnblurred: Type.Optional(Type.Boolean({ description: 'accept clips whose faces are not blurred (the edge must also be set to send them); default false' })),
  retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'days a clip is kept after upload' })),
}, { additionalProperties: false, minProperties: 1 });

export function evidenceSettingsRoutes(app: FastifyInstance, db: Db, defaults: EvidenceSettings): void {
  app.get('/sites/:site/evidence-settings', {
    schema: { tags: ['evidence'], summary: 'The site\'s evidence settings: unblurred clips accepted, days clips are kept (site admin)', params: Params },
  }, async (req) => {
    const { site } = req.params as { site: string };
    requireManages(actorOf(req), [site], `site ${site}`);
    return { site, ...await readSettings(db, site, defaults) };
  });

  app.put('/sites/:site/evidence-settings', {
    schema: { tags: ['evidence'], summary: 'Change the site\'s evidence settings (site admin; audited)', params: Params, body: Body },
  }, async (req) => {
    const actor = actorOf(req);
    const { site } = req.params as { site: string };
    requireManages(actor, [site], `site ${site}`);
    const current = await readSettings(db, site, defaults);
    const b = req.body as Partial<EvidenceSettings>;
    const next = { allowUnblurred: b.allowUnblurred ?? current.allowUnblurred, retentionDays: b.retentionDays ?? current.retentionDays };
    return { site, ...await writeSettings(db, site, next, actor.user) };
  });
}
