/**
 * registerApi(app, deps): the REST API, OpenAPI at /openapi.json, and the alarm page, wired into an existing
 * Fastify app with one call. The API lives under `prefix` (default /api/v1) in its own encapsulated scope:
 * its own JSON parser, TypeBox validation, error shape, rate limit per token, bearer auth and audit trail,
 * none of which touch the app's other routes (the edges' ingest keeps its own parser and answers).
 *
 * Lifecycle: the user directory starts (bootstrap admin from ADMIN_TOKEN) when the app becomes ready, and
 * the command desk stops when it closes.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import { createLogger, type Clock, type Logger } from '@safe-community/runtime';
import { EdgeDirectory, UserDirectory, actorOf, hashToken, bearerToken, edgeAuthHook, type Db } from '../auth/index.js';
import { SESSION_COOKIE, cookieValue, sessionOrBearerHook } from '../auth/session-hooks.js';
import { SessionStore } from '../auth/sessions.js';
import type { AlarmService } from '../alarms/types.js';
import { RunnerDb } from '../store/db.js';
import type { SqlRunner } from '../migrate.js';
import { alarmPagePlugin } from '../page/index.js';
import { signInPlugin } from '../page/sign-in.js';
import { AlarmFeed } from './alarm-feed.js';
import { terminalRoutes } from '../alarms/terminal-routes.js';
import { installAudit } from './audit.js';
import { CommandDesk, type Publish } from './commands.js';
import { installErrorHandling, statusForCode } from './errors.js';
import { scopeAlarms } from './location-scope.js';
import { adminRoutes } from './routes-admin.js';
import { careRoutes } from './routes-care.js';
import { alarmRoutes } from './routes-alarms.js';
import { commandRoutes } from './routes-commands.js';
import { inventoryRoutes } from './routes-inventory.js';
import { rulesRoutes, slaRoutes, type RulesPort } from './routes-rules.js';
import { sessionAdminRoutes } from './routes-sessions.js';
import { seriesRoutes } from './routes-series.js';
import { ErrorBody } from './schemas.js';
import { typeboxCompiler } from './validation.js';
import { DEFAULT_FLOOD as FLOOD_DEFAULTS, FloodGuard } from '../flood.js';
import { DEFAULT_SETTINGS as EVIDENCE_DEFAULTS, type EvidenceSettings } from '../evidence/clips-db.js';
import { clipRoutes } from '../evidence/routes-clips.js';
import { evidenceSettingsRoutes } from '../evidence/routes-settings.js';
import { UNCONFIGURED_EVIDENCE_STORE } from '../evidence/unconfigured-store.js';
import type { EvidenceStore } from '../evidence/store.js';

export interface ApiDeps {
  /**
   * The ingest's store, or anything with its query() and runner(): reads go through query(), the care
   * routes' transactions through the runner. The API's tables come from migration 0030.
   */
  db: Db & { runner(): SqlRunner };
  /** The alarm lifecycle; the alarm, incident and report routes and the alarm page need it. */
  alarms?: AlarmService;
  /** The cloud rule engine, for GET/PUT /rules; without it those routes are off. */
  rules?: RulesPort;
  /** Edge identities; default one on `db` (the ingest passes its own, shared with the ingest paths). */
  edges?: EdgeDirectory;
  /** Publishes one message to the cloud broker (QoS 1), for commands down. */
  publish: Publish;
  clock?: Clock;
  logger?: Logger;
  /** ADMIN_TOKEN: ensures an admin user holding this token at start (see auth/directory.ts). */
  adminToken?: string | undefined;
  adminUser?: string;
  prefix?: string;
  /** Requests per token (per address without one) per window. Default 600 per minute. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Folder holding the edges' snapshots, for GET /alarms/:id/snapshot. */
  snapshotsDir?: string | undefined;
  commandTimeoutMs?: number;
  commandGraceMs?: number;
  /** Elderly care: how far back a resident's location history may be read (config care.locationRetentionDays; default 30, 0: no bound). */
  care?: { locationRetentionDays?: number };
  /** Where people's browsers reach this service (sign-in links; https marks the session cookie Secure). */
  publicUrl?: string | undefined;
  /** How long a browser session lasts, seconds (default 12 h). */
  sessionTtlSec?: number;
  /** How often the live alarm feed looks for changes, ms (default 1000). */
  feedPollMs?: number;
  /** Per-address limits before authentication (flood.ts); default its own with the default limits. */
  flood?: FloodGuard;
  /** Video evidence clips (issue 16): where they are stored, and the settings of a site without its own. */
  evidence?: { store: EvidenceStore; defaults?: EvidenceSettings };
}

export interface ApiHandle {
  users: UserDirectory;
  edges: EdgeDirectory;
  /** Browser sessions of people (sign-in page, one-time links). */
  sessions: SessionStore;
  /** The live alarm feed (SSE); `streams` counts open ones. */
  feed: AlarmFeed;
  commands: CommandDesk;
  /** An onRequest hook for the edges' HTTP ingest: Basic auth with the edge id and its secret. */
  edgeAuth: ReturnType<typeof edgeAuthHook>;
  flood: FloodGuard;
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<ApiHandle> {
  const log = deps.logger ?? createLogger({ name: 'api' });
  const prefix = deps.prefix ?? '/api/v1';
  const edges = deps.edges ?? new EdgeDirectory(deps.db, deps.clock ? { clock: deps.clock } : {});
  const flood = deps.flood ?? new FloodGuard({ ...FLOOD_DEFAULTS, ...(deps.clock ? { clock: deps.clock } : {}) });
  const users = new UserDirectory(deps.db, { adminToken: deps.adminToken, adminUser: deps.adminUser ?? 'admin', logger: log.child({ part: 'auth' }) });
  const sessions = new SessionStore(deps.db, { ...(deps.sessionTtlSec !== undefined ? { ttlSec: deps.sessionTtlSec } : {}), ...(deps.clock ? { clock: deps.clock } : {}) });
  const feed = new AlarmFeed({ db: deps.db, logger: log.child({ part: 'feed' }), ...(deps.feedPollMs !== undefined ? { pollMs: deps.feedPollMs } : {}) });
  const commands = new CommandDesk({
    db: deps.db, publish: deps.publish,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.commandTimeoutMs !== undefined ? { defaultTimeoutMs: deps.commandTimeoutMs } : {}),
    ...(deps.commandGraceMs !== undefined ? { graceMs: deps.commandGraceMs } : {}),
  });
  app.addHook('onReady', async () => {
    await users.start();
    await sessions.purge();
    // The dashboards' alarm links read this (dashboards: Board.alarmPageVariable); unset leaves what is stored.
    if (deps.publicUrl) {
      await deps.db.query(`INSERT INTO service_settings (key, value) VALUES ('public_url', $1)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, [deps.publicUrl.replace(/\/+$/, '')]);
    }
    await commands.start();
  });
  app.addHook('onClose', async () => {
    await feed.stop();
    await commands.stop();
    await users.stop();
  });

  if (!app.hasRequestDecorator('actor')) app.decorateRequest('actor', null);
  if (!app.hasRequestDecorator('edgeIdentity')) app.decorateRequest('edgeIdentity', null);

  // Registered on the app itself so it sees every route added after it, the API's and the page's.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Safe community cloud API', version: '1.0.0', description: 'Alarms, incidents, commands and queries for community safety staff.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(ErrorBody);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    api.setValidatorCompiler(typeboxCompiler);
    // The app may parse JSON as text for its own routes (the ingest does); the API wants objects.
    if (api.hasContentTypeParser('application/json')) api.removeContentTypeParser('application/json');
    api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 1024 * 1024 }, api.getDefaultJsonParser('error', 'error'));
    installErrorHandling(api);
    // Before the per-token limit and authentication: an address that keeps failing is refused unread.
    api.addHook('onRequest', flood.apiBefore);
    await api.register(rateLimit, {
      max: deps.rateLimit?.max ?? 600,
      timeWindow: deps.rateLimit?.timeWindowMs ?? 60_000,
      // Per token, so one noisy client cannot starve the others behind the same proxy address.
      keyGenerator: (req) => {
        const t = bearerToken(req.headers.authorization) ?? cookieValue(req.headers.cookie, SESSION_COOKIE);
        return t ? `t:${hashToken(t).slice(0, 32)}` : `a:${req.ip}`;
      },
      errorResponseBuilder: (req, ctx) => {
        flood.counts.apiThrottled++;
        return {
          statusCode: ctx.statusCode, code: 'ERR_RATE_LIMITED',
          message: `rate limit of ${ctx.max} requests per ${ctx.after} reached; retry later`, requestId: req.id,
        };
      },
    });
    // People in a browser come with the session cookie (and a CSRF token on writes); machines with a bearer
    // token. A failed authentication counts against the address (flood.ts).
    const authenticate = sessionOrBearerHook(users, sessions);
    api.addHook('onRequest', async (req, reply) => {
      try {
        await authenticate(req, reply);
      } catch (err) {
        flood.apiFailed(req.ip);
        throw err;
      }
    });
    installAudit(api, deps.db, log.child({ part: 'audit' }));
    adminRoutes(api, users, edges, deps.db);
    sessionAdminRoutes(api, users, sessions, deps.publicUrl);
    inventoryRoutes(api, deps.db);
    seriesRoutes(api, deps.db);
    commandRoutes(api, commands);
    // Residents and location history need transactions: they run on the store's runner.
    const careDb = new RunnerDb(() => deps.db.runner());
    // Own scope: its read-audit hook covers the care routes only.
    await api.register(async (care) => careRoutes(care, {
      db: careDb, auditDb: deps.db, locationRetentionDays: deps.care?.locationRetentionDays ?? 30,
      logger: log.child({ part: 'care' }), ...(deps.clock ? { clock: deps.clock } : {}),
    }));
    evidenceSettingsRoutes(api, deps.db, deps.evidence?.defaults ?? EVIDENCE_DEFAULTS);
    if (deps.alarms) {
      feed.register(api);
      alarmRoutes(api, deps.alarms, deps.db);
      clipRoutes(api, { db: deps.db, store: deps.evidence?.store ?? UNCONFIGURED_EVIDENCE_STORE, alarms: deps.alarms, logger: log.child({ part: 'evidence' }) });
      slaRoutes(api, deps.alarms);
    }
    if (deps.rules) rulesRoutes(api, deps.db, deps.rules);
    // Guards' handheld terminals poll their dispatches here (the MQTT topic per terminal is the push side).
    // A terminal signs in with its guard's token; security staff and admins may act for a terminal.
    if (deps.alarms) {
      const alarms = deps.alarms;
      await api.register(async (terminals) => terminalRoutes(terminals, {
        alarms,
        verify: (req) => req.actor !== null && (req.actor.role === 'security' || req.actor.role === 'admin'),
        inScope: (req, site) => req.actor !== null && (req.actor.sites === '*' || req.actor.sites.includes(site)),
        scopeAlarms: (req, list) => scopeAlarms(deps.db, actorOf(req), list),
        statusFor: statusForCode,
      }));
    }
  }, { prefix });

  await app.register(async (signIn) => signInPlugin(signIn, { sessions, publicUrl: deps.publicUrl, db: deps.db, logger: log.child({ part: 'sign-in' }), flood }));
  if (deps.alarms) {
    const alarms = deps.alarms;
    await app.register(async (page) => alarmPagePlugin(page, { users, sessions, alarms, apiBase: prefix, snapshotsDir: deps.snapshotsDir }));
  }
  return { users, edges, sessions, feed, commands, edgeAuth: edgeAuthHook(edges), flood };
}
