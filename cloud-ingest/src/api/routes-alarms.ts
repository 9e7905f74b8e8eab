/**
 * Alarms, incidents and resident reports, through the AlarmService. The service enforces the role policy,
 * site scoping (404 for another site's alarm) and legal transitions; the API checks the role first as well,
 * so a refused write never reaches the service. Every alarm answered goes through location-scope.ts: the
 * last-fix tags of a resident outside the caller's teams are removed (`tags.location_hidden`), the rest of
 * the alarm stays, so security staff can respond.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CodedError } from '@safe-community/runtime';
import { actorOf, requirePermission, type Db } from '../auth/index.js';
import type { AlarmFilter, AlarmService, AlarmState } from '../alarms/types.js';
import { alarmContext } from './alarm-context.js';
import { scopeAlarm, scopeAlarms } from './location-scope.js';
import { CsvList, Id, IdParams, Severity, Timestamp } from './schemas.js';
import { RequestValidationError } from './validation.js';
import { SEVERITIES } from '@safe-community/contracts';

const Note = Type.Optional(Type.String({ maxLength: 2000 }));
const STATES: readonly string[] = ['open', 'acknowledged', 'dispatched', 'resolved', 'false_alarm'];

const ListQuery = Type.Object({
  state: Type.Optional(CsvList('states: open, acknowledged, dispatched, resolved, false_alarm')),
  severity: Type.Optional(CsvList(`severities: ${SEVERITIES.join(', ')}`)),
  site: Type.Optional(Id),
  device: Type.Optional(Id),
  type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  before: Type.Optional(Timestamp),
}, { additionalProperties: false });

const ReportBody = Type.Object({
  site: Id,
  location: Type.Optional(Id),
  category: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32, description: 'e.g. fire, intrusion, medical, other' })),
  severity: Type.Optional(Severity),
  message: Type.String({ minLength: 1, maxLength: 512 }),
  reporter: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { additionalProperties: false });

/** Splits a comma list and keeps only known words; an unknown word is a 400, not an empty answer. */
function csv(value: string | undefined, allowed: readonly string[], name: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',');
  const bad = items.find((i) => !allowed.includes(i));
  if (bad !== undefined) {
    throw new RequestValidationError('querystring', [{ path: `/${name}`, reason: `${bad} is not one of ${allowed.join(', ')}` }]);
  }
  return items;
}

export function alarmRoutes(fastify: FastifyInstance, alarms: AlarmService, db: Db): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/alarms', { schema: { tags: ['alarms'], summary: 'Alarms, newest first, filtered', querystring: ListQuery } }, async (req) => {
    const q = req.query;
    const actor = actorOf(req);
    const filter: AlarmFilter = { sites: actor.sites };
    const state = csv(q.state, STATES, 'state');
    const severity = csv(q.severity, SEVERITIES, 'severity');
    if (state) filter.state = state as AlarmState[];
    if (severity) filter.severity = severity;
    if (q.site !== undefined) filter.site = q.site;
    if (q.device !== undefined) filter.device = q.device;
    if (q.type !== undefined) filter.type = q.type;
    if (q.limit !== undefined) filter.limit = q.limit;
    if (q.before !== undefined) filter.before = q.before;
    return { alarms: await scopeAlarms(db, actor, await alarms.list(filter)) };
  });

  app.get('/alarms/:id', { schema: { tags: ['alarms'], summary: 'One alarm with comments, audit trail, evidence, dispatches, and its context in words (place, resident, calls, linkage steps)', params: IdParams } },
    async (req) => {
      const actor = actorOf(req);
      const alarm = await scopeAlarm(db, actor, await alarms.get(req.params.id, actor));
      return { ...alarm, context: await alarmContext(db, alarm) };
    });

  app.post('/alarms/:id/ack', {
    schema: { tags: ['alarms'], summary: 'Acknowledge (security, admin)', params: IdParams, body: Type.Object({ note: Note }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'act');
    return scopeAlarm(db, actor, await alarms.acknowledge(req.params.id, actor, req.body.note));
  });

  app.post('/alarms/:id/assign', {
    schema: { tags: ['alarms'], summary: 'Assign to a person (security, admin)', params: IdParams, body: Type.Object({ assignee: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'act');
    return scopeAlarm(db, actor, await alarms.assign(req.params.id, actor, req.body.assignee));
  });

  app.post('/alarms/:id/dispatch', {
    schema: { tags: ['alarms'], summary: 'Send to a guard terminal (security, admin)', params: IdParams, body: Type.Object({ terminal: Id, note: Note }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'act');
    const b = req.body;
    return scopeAlarm(db, actor, await alarms.dispatch(req.params.id, actor, b.terminal, b.note));
  });

  app.post('/alarms/:id/resolve', {
    schema: { tags: ['alarms'], summary: 'Resolve, or close as a false alarm (security, admin)', params: IdParams, body: Type.Object({ falseAlarm: Type.Optional(Type.Boolean()), note: Note }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'act');
    const b = req.body;
    const r: { falseAlarm?: boolean; note?: string } = {};
    if (b.falseAlarm !== undefined) r.falseAlarm = b.falseAlarm;
    if (b.note !== undefined) r.note = b.note;
    return scopeAlarm(db, actor, await alarms.resolve(req.params.id, actor, r));
  });

  app.post('/alarms/:id/comments', {
    schema: { tags: ['alarms'], summary: 'Comment (installer, security, admin)', params: IdParams, body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }) },
  }, async (req) => {
    const actor = actorOf(req);
    requirePermission(actor, 'comment');
    return scopeAlarm(db, actor, await alarms.comment(req.params.id, actor, req.body.text));
  });

  app.get('/incidents', {
    schema: {
      tags: ['alarms'], summary: 'Incidents (related alarms grouped); `?open` alone means open=true',
      querystring: Type.Object({ open: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('')])) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const q = req.query;
    const f: { sites: readonly string[] | '*'; open?: boolean } = { sites: actorOf(req).sites };
    if (q.open !== undefined) f.open = q.open === '' ? true : q.open;
    return { incidents: await alarms.incidents(f) };
  });

  // Resident reports come in through a staff member's or a resident app's token and join the alarm pipeline
  // (seed §6.3.3.2 b). Any authenticated role of the site may file one: reporting is not acting on an alarm.
  app.post('/reports', { schema: { tags: ['alarms'], summary: 'File a resident incident report; raises an alarm', body: ReportBody } }, async (req, reply) => {
    const actor = actorOf(req);
    const b = req.body;
    if (actor.sites !== '*' && !actor.sites.includes(b.site)) {
      throw new CodedError('ERR_NOT_FOUND', `unknown site ${b.site}`);
    }
    const alarm = await alarms.raise({
      site: b.site,
      device: b.location ?? 'resident-report',
      type: `report.${b.category ?? 'other'}`,
      severity: b.severity ?? 'major',
      message: b.message,
      origin: 'report',
      raisedBy: `resident:${b.reporter ?? actor.user}`,
      tags: { reportedBy: actor.user, ...(b.reporter ? { reporter: b.reporter } : {}) },
    });
    return reply.code(201).send(await scopeAlarm(db, actor, alarm));
  });
}
