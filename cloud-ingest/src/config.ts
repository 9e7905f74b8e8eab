/**
 * The ingest's configuration: one schema with defaults and descriptions, unknown keys rejected, validated
 * once, frozen. Environment variables map onto a few keys (configFromEnv).
 */
import { hostname } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { CodedError, validateConfig } from '@safe-community/runtime';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T, description: string) =>
  Type.Union([t, Type.Null()], { default: null, description });

const RetrySchema = Type.Object(
  {
    initialMs: Type.Integer({ minimum: 1, default: 100, description: 'first delay after a failed commit' }),
    maxMs: Type.Integer({ minimum: 1, default: 10_000, description: 'cap on the delay between commit attempts' }),
  },
  { additionalProperties: false, default: {} },
);

const MaintenanceSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'run partition upkeep, retention and rollup refresh on timers' }),
    partitionsAheadDays: Type.Integer({ minimum: 1, maximum: 366, default: 7, description: 'day partitions kept ready ahead of today' }),
    retentionDays: Type.Integer({ minimum: 0, default: 0, description: 'drop day partitions older than this; 0 keeps everything' }),
    plateRetentionDays: Type.Integer({ minimum: 0, default: 30, description: 'remove plate text from vehicle events older than this (personal data); 0 keeps it' }),
    auditRetentionDays: Type.Integer({ minimum: 0, default: 365, description: 'delete API audit rows (writes, and reads of residents\' data) older than this; 0 keeps them' }),
    partitionIntervalSec: Type.Integer({ minimum: 1, default: 3600, description: 'how often partitions and retention are checked' }),
    rollupRefreshSec: Type.Integer({ minimum: 1, default: 60, description: 'how often the per-minute rollups are refreshed (plain PostgreSQL)' }),
  },
  { additionalProperties: false, default: {} },
);

const CareSchema = Type.Object(
  {
    locationRetentionDays: Type.Integer({
      minimum: 0, default: 30,
      description: "elderly care: residents' positions (wearable.lat/lon telemetry, positions and last_lat/last_lon/last_fix_at of care events and alarms, lat/lon of wearable events) older than this are removed, and the location API reads no further back; 0 keeps them",
    }),
  },
  { additionalProperties: false, default: {} },
);

const NotifySchema = Type.Object(
  {
    webhookUrl: Nullable(Type.String({ minLength: 1 }), 'where alarm calls are POSTed as JSON (an SMS/voice gateway, a chat bot; env NOTIFY_WEBHOOK_URL); null: no calls leave the service'),
    webhookToken: Nullable(Type.String({ minLength: 1 }), 'sent as Authorization: Bearer (env NOTIFY_WEBHOOK_TOKEN)'),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'per POST' }),
    attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'tries per call before it is logged as not delivered' }),
  },
  { additionalProperties: false, default: {} },
);

const ApiSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'serve the REST API (/api/v1), /openapi.json and the alarm page' }),
    adminToken: Nullable(Type.String({ minLength: 24 }), 'bootstrap admin token (env ADMIN_TOKEN): user admin holds exactly this token after start; null leaves users as stored'),
    snapshotsDir: Nullable(Type.String({ minLength: 1 }), "folder of the edges' snapshots, one sub-folder per site (<dir>/<site>/<camera>/<file>.jpg), for GET /alarms/:id/snapshot (env SNAPSHOTS_DIR)"),
    rateLimitMax: Type.Integer({ minimum: 1, default: 600, description: 'API requests per token per window' }),
    rateLimitWindowMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'API rate-limit window' }),
    publicUrl: Nullable(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 512 }), "where people's browsers reach this service, e.g. https://safety.example.org (env PUBLIC_URL): sign-in links point there, and an https URL marks the session cookie Secure; null: the request's own host"),
    sessionTtlSec: Type.Integer({ minimum: 300, maximum: 7 * 86_400, default: 12 * 3600, description: 'how long a browser sign-in lasts, seconds (default one 12 h shift)' }),
    edgeAuth: Type.Boolean({ default: true, description: "require each edge's own credential (Basic auth, edge id + secret) on POST /ingest/v1/envelopes, and a registered edge on MQTT; false (env INGEST_EDGE_AUTH=0) is a development setting, logged loudly at start" }),
  },
  { additionalProperties: false, default: {} },
);

const EvidenceSchema = Type.Object(
  {
    dir: Nullable(Type.String({ minLength: 1 }), "folder of the edges' video evidence clips, one sub-folder per site (env EVIDENCE_DIR); null: uploads are answered 503 and kept waiting on the edges"),
    maxClipBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024, description: 'largest clip accepted; a larger upload is refused 413 ERR_EVIDENCE_TOO_LARGE' }),
    defaultRetentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 30, description: 'days a clip is kept on a site that has no evidence setting of its own' }),
  },
  { additionalProperties: false, default: {} },
);

const FloodSchema = Type.Object(
  {
    authFailuresPerMinute: Type.Number({ minimum: 0.1, default: 30, description: 'failed API authentications per source address; past it the address gets 429 before its token is looked at' }),
    authFailureBurst: Type.Integer({ minimum: 1, default: 30 }),
    ingestPerSecond: Type.Number({ minimum: 0.1, default: 50, description: 'HTTP ingest requests per source address, checked before credentials and body' }),
    ingestBurst: Type.Integer({ minimum: 1, default: 200 }),
    junkPerMinute: Type.Number({ minimum: 0.1, default: 60, description: 'invalid envelopes per source address recorded in dead_letters; past it they are answered 400 and only counted' }),
    junkBurst: Type.Integer({ minimum: 1, default: 20 }),
  },
  { additionalProperties: false, default: {} },
);

const ClockSchema = Type.Object(
  {
    maxFutureSec: Type.Integer({ minimum: 1, default: 3600, description: 'a record dated further ahead of the ingest clock is stored at the ingest time (events keep the original in tag clock_skew); keep it well under maintenance.partitionsAheadDays' }),
    maxPastDays: Type.Integer({ minimum: 0, default: 0, description: 'a record older than this is stored at the ingest time; 0 accepts any age (replays after long outages)' }),
  },
  { additionalProperties: false, default: {} },
);

export const IngestConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'HTTP listen address (env HOST)' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port; 0 picks a free one (env PORT)' }),
    databaseUrl: Nullable(Type.String({ minLength: 1 }), 'PostgreSQL URL (env DATABASE_URL); null uses embedded PGlite'),
    timescale: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description: "TimescaleDB for a new database (env STORE_TIMESCALE): auto uses it when the server preloads it or the database has it; on requires it (an error naming the fix otherwise); off keeps plain PostgreSQL. A database keeps the variant of its first migration",
    }),
    pgliteDataDir: Nullable(Type.String({ minLength: 1 }), 'PGlite data folder; null keeps the embedded store in memory'),
    pgPoolMax: Type.Integer({ minimum: 1, maximum: 100, default: 4, description: 'PostgreSQL connections' }),
    commitConcurrency: Type.Integer({ minimum: 1, maximum: 32, default: 2, description: 'PostgreSQL transactions writing envelopes at once; envelopes beyond wait and share one transaction (group commit)' }),
    copyThreshold: Type.Integer({ minimum: 1, default: 2000, description: 'telemetry rows in one envelope from which COPY is used' }),
    mqttUrl: Nullable(Type.String({ minLength: 1 }), 'cloud broker URL (env MQTT_URL); null turns the MQTT consumer off'),
    mqttProtocol: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: '5: shared subscription; 4 (MQTT 3.1.1) for brokers without MQTT 5, one consumer only' }),
    shareGroup: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 64, default: 'ingest', description: 'MQTT 5 shared-subscription group (env INGEST_SHARE_GROUP)' }),
    clientId: Type.String({ minLength: 1, maxLength: 128, default: `ingest-${hostname()}`, description: 'MQTT client id; must be stable across restarts for the persistent session, and unique per instance (env MQTT_CLIENT_ID)' }),
    consumers: Type.Integer({ minimum: 1, maximum: 32, default: 1, description: 'MQTT connections in the share group; each holds one envelope in flight' }),
    sessionExpirySec: Type.Integer({ minimum: 0, default: 3600, description: 'how long the broker queues for this instance while it is away' }),
    keepaliveSec: Type.Integer({ minimum: 1, default: 60, description: 'MQTT keepalive' }),
    maxEnvelopeBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024, description: 'largest accepted envelope (HTTP body limit too)' }),
    retry: RetrySchema,
    stuckAfterSec: Type.Integer({ minimum: 1, default: 30, description: '/health reports ingest degraded when an envelope has waited this long for its commit' }),
    clock: ClockSchema,
    flood: FloodSchema,
    maintenance: MaintenanceSchema,
    care: CareSchema,
    notify: NotifySchema,
    api: ApiSchema,
    evidence: EvidenceSchema,
    logLevel: Type.String({ default: 'info', description: 'pino level' }),
  },
  { additionalProperties: false },
);

export type IngestConfig = Readonly<Static<typeof IngestConfigSchema>>;
export type IngestConfigInput = Partial<Static<typeof IngestConfigSchema>>;

/** Validates and freezes; throws ERR_CONFIG naming the first bad key. */
export function loadConfig(input: unknown = {}): IngestConfig {
  const cfg = validateConfig('ingest', IngestConfigSchema, input) as IngestConfig;
  if (cfg.mqttProtocol === 4 && cfg.consumers > 1) {
    throw new CodedError('ERR_CONFIG', 'invalid ingest config: consumers must be 1 with mqttProtocol 4 (no shared subscriptions in MQTT 3.1.1)');
  }
  return cfg;
}

/** DATABASE_URL, STORE_TIMESCALE, MQTT_URL, PORT, HOST, INGEST_SHARE_GROUP, MQTT_CLIENT_ID, PGLITE_DATA_DIR, LOG_LEVEL, ADMIN_TOKEN, SNAPSHOTS_DIR, PUBLIC_URL, INGEST_EDGE_AUTH, NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOK_TOKEN, EVIDENCE_DIR. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): IngestConfigInput {
  const out: IngestConfigInput = {};
  if (env.DATABASE_URL) out.databaseUrl = env.DATABASE_URL;
  if (env.MQTT_URL) out.mqttUrl = env.MQTT_URL;
  if (env.HOST) out.host = env.HOST;
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port)) throw new CodedError('ERR_CONFIG', `invalid ingest config: port (env PORT="${env.PORT}") is not an integer`);
    out.port = port;
  }
  if (env.INGEST_SHARE_GROUP) out.shareGroup = env.INGEST_SHARE_GROUP;
  if (env.MQTT_CLIENT_ID) out.clientId = env.MQTT_CLIENT_ID;
  if (env.PGLITE_DATA_DIR) out.pgliteDataDir = env.PGLITE_DATA_DIR;
  if (env.STORE_TIMESCALE) out.timescale = env.STORE_TIMESCALE as IngestConfigInput['timescale'];
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  const api: Record<string, unknown> = {};
  if (env.ADMIN_TOKEN) api.adminToken = env.ADMIN_TOKEN;
  if (env.SNAPSHOTS_DIR) api.snapshotsDir = env.SNAPSHOTS_DIR;
  if (env.PUBLIC_URL) api.publicUrl = env.PUBLIC_URL;
  if (env.INGEST_EDGE_AUTH) {
    const v = env.INGEST_EDGE_AUTH;
    if (!['0', '1', 'true', 'false'].includes(v)) throw new CodedError('ERR_CONFIG', `invalid ingest config: api.edgeAuth (env INGEST_EDGE_AUTH="${v}") must be one of 1, true, 0, false`);
    api.edgeAuth = v === '1' || v === 'true';
  }
  if (Object.keys(api).length > 0) out.api = api as IngestConfigInput['api'];
  const notify: Record<string, unknown> = {};
  if (env.NOTIFY_WEBHOOK_URL) notify.webhookUrl = env.NOTIFY_WEBHOOK_URL;
  if (env.NOTIFY_WEBHOOK_TOKEN) notify.webhookToken = env.NOTIFY_WEBHOOK_TOKEN;
  if (Object.keys(notify).length > 0) out.notify = notify as IngestConfigInput['notify'];
  if (env.EVIDENCE_DIR) out.evidence = { dir: env.EVIDENCE_DIR } as IngestConfigInput['evidence'];
  return out;
}
