/**
 * The ingest service: store (migrated at start) → pipeline → HTTP → MQTT consumer → maintenance, started
 * in that order and stopped in reverse.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { edgeDownTopic, parseEdgeTopic, type DownMessage } from '@safe-community/contracts';
import { CodedError, HealthBoard, createLogger, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { WebhookNotifier, createAlarmService, type AlarmLifecycle, type Notifier } from './alarms/index.js';
import { RuleEngine, committedFromBatch, type RuleSet } from './rules/index.js';
import { registerApi } from './api/index.js';
import { EdgeDirectory, edgeAuthHook } from './auth/index.js';
import { DownSigner, boundedDeadLetters, originRefusal } from './edge-trust.js';
import { loadConfig, type IngestConfig } from './config.js';
import { registerRoutes, type HealthParts } from './http.js';
import { createIngestMetrics, registerMetrics } from './metrics.js';
import { Maintenance } from './maintenance.js';
import { FloodGuard } from './flood.js';
import { MqttConsumer } from './mqtt-consumer.js';
import { Pipeline, ingestHealth, type IngestCounters } from './pipeline.js';
import { clip } from './prepare.js';
import { prepareEnvelope } from './prepare.js';
import { PgStore } from './store/pg-store.js';
import { PgliteStore } from './store/pglite-store.js';
import type { Store } from './store/types.js';
import type { TimeWindow } from './time-sanity.js';
import { FileEvidenceStore } from './evidence/file-store.js';
import { EvidenceRetention } from './evidence/retention.js';
import { UNCONFIGURED_EVIDENCE_STORE } from './evidence/unconfigured-store.js';
import { newEvidenceCounters } from './evidence/upload-route.js';
import type { EvidenceStore } from './evidence/store.js';

export interface IngestDeps {
  /** A store owned by the caller (started and stopped by the service all the same). */
  store?: Store;
  /**
   * The alarm lifecycle behind the API and the cloud rules (started and stopped by the service); default:
   * one on the store.
   */
  alarms?: AlarmLifecycle;
  /** Who the default alarm lifecycle calls (duty phone, guard team, family…); default none. */
  notifier?: Notifier;
  /** A cloud rule set to install at start when newer than the stored one (else the stored one runs). */
  rules?: RuleSet;
  /** Where uploaded evidence clips are kept; default a file store on config evidence.dir. */
  evidenceStore?: EvidenceStore;
  logger?: Logger;
  clock?: Clock;
}

export interface IngestService {
  readonly config: IngestConfig;
  readonly store: Store;
  /** The evidence clips' store (issue 16). */
  readonly evidence: EvidenceStore;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A snapshot of the counters (rows written, duplicates, dead letters…), for metrics. */
  counters(): IngestCounters;
  health(): Promise<HealthParts>;
  /** Edge identities: issue, rotate and check edges' credentials (also what a cloud broker logs edges in with). */
  readonly edges: EdgeDirectory;
  /** The bound HTTP address, after start. */
  address(): { host: string; port: number };
  /**
   * Resolves once the cloud-side work of every batch committed so far is done: cloud rules, taking in
   * edge alarms, their first notifications. For tests and for a drain before a planned stop.
   */
  idle(): Promise<void>;
}

export function createIngestService(input: unknown = {}, deps: IngestDeps = {}): IngestService {
  const config = loadConfig(input);
  const log = deps.logger ?? createLogger({ name: 'cloud-ingest', level: config.logLevel });
  const store: Store = deps.store ?? (config.databaseUrl
    ? new PgStore({ url: config.databaseUrl, timescale: config.timescale, poolMax: config.pgPoolMax, copyThreshold: config.copyThreshold, commitConcurrency: config.commitConcurrency, logger: log.child({ part: 'store' }) })
    : new PgliteStore({ dataDir: config.pgliteDataDir, logger: log.child({ part: 'store' }) }));
  const evidence = deps.evidenceStore ?? (config.evidence.dir ? new FileEvidenceStore(config.evidence.dir) : UNCONFIGURED_EVIDENCE_STORE);
  const evidenceCounters = newEvidenceCounters();
  const evidenceDefaults = { allowUnblurred: false, retentionDays: config.evidence.defaultRetentionDays };
  // Cloud rules see each committed batch, in commit order, off the ack path (issue 6 item 3).
  let rules: RuleEngine | undefined;
  let rulesTail: Promise<unknown> = Promise.resolve();
  const feedRules = (batch: Parameters<typeof committedFromBatch>[0], result: Parameters<typeof committedFromBatch>[1]): void => {
    const engine = rules;
    if (!engine) return;
    const c = committedFromBatch(batch, result);
    if (!c.events.length && !c.alarms.length && !c.statuses.length && !c.linkages.length) return;
    // Judged now, in commit order; the durable writes follow in the rules' group commit, which keeps that
    // order, so the next batch need not wait for this one's flush (issue #19).
    const durable = engine.evaluate(c).durable.catch((err: unknown) => log.warn({ err: (err as Error).message }, 'cloud rules failed on a batch'));
    rulesTail = Promise.all([rulesTail, durable]);
  };
  const pipeline = new Pipeline(store, { retry: config.retry, logger: log.child({ part: 'pipeline' }), onCommitted: feedRules, ...(deps.clock ? { clock: deps.clock } : {}) });
  let app: FastifyInstance | undefined;
  let consumer: MqttConsumer | undefined;
  let maintenance: Maintenance | undefined;
  let alarms: AlarmLifecycle | undefined;
  // Commands down and terminal dispatches go out on the consumer's broker connection, signed for edges.
  const publishDown = (topic: string, body: string): Promise<void> => sendDown(topic, body);
  // Edge identities (issue 12): the ingest paths, the API and an in-process cloud broker share this one.
  const edges = new EdgeDirectory(store, deps.clock ? { clock: deps.clock } : {});
  const signer = new DownSigner({ edges, logger: log.child({ part: 'down' }), ...(deps.clock ? { clock: deps.clock } : {}) });
  const sendDown = async (topic: string, body: string): Promise<void> => {
    if (!consumer) throw new CodedError('ERR_MQTT_DOWN', 'no cloud broker connection (mqttUrl is not set)');
    await consumer.publish(topic, await signer.payloadFor(topic, body));
  };
  let bound = { host: config.host, port: config.port };
  // Calls leave through the injected notifier, else the configured webhook (checked here, at construction).
  const notifier = deps.notifier ?? (config.notify.webhookUrl
    ? new WebhookNotifier({ url: config.notify.webhookUrl, token: config.notify.webhookToken, timeoutMs: config.notify.timeoutMs, attempts: config.notify.attempts, logger: log.child({ part: 'notify' }) })
    : undefined);

  const clock = deps.clock ?? systemClock;
  const f = config.flood;
  const flood = new FloodGuard({
    authFailures: { perSecond: f.authFailuresPerMinute / 60, burst: f.authFailureBurst },
    ingest: { perSecond: f.ingestPerSecond, burst: f.ingestBurst },
    junk: { perSecond: f.junkPerMinute / 60, burst: f.junkBurst },
    clock,
  });
  const timeWindow = (): TimeWindow => ({ now: clock.now(), maxFutureMs: config.clock.maxFutureSec * 1000, maxPastMs: config.clock.maxPastDays * 86_400_000 });

  let maintenanceFailing: () => Record<string, string> = () => ({});
  const board = new HealthBoard();
  board.register('store', async () => {
    const h = await store.health();
    return h.ok ? { state: 'up' } : { state: 'down', reason: h.detail ?? 'store not available' };
  });
  board.register('mqtt', () => (!config.mqttUrl ? { state: 'up', reason: 'not configured' }
    : consumer?.connected ? { state: 'up' } : { state: 'down', reason: 'not connected to the cloud broker' }));
  board.register('ingest', () => ingestHealth(pipeline.state(), config.stuckAfterSec * 1000));
  // Clips wait on the edges while the folder cannot be written: degraded, not down (alarms still flow).
  board.register('evidence', async () => {
    if (evidence.kind === 'none') return { state: 'up', reason: 'not configured' };
    const h = await evidence.health();
    return h.ok ? { state: 'up' } : { state: 'degraded', reason: h.detail ?? 'evidence store not writable' };
  });
  board.register('maintenance', () => {
    const failing = Object.entries(maintenanceFailing());
    return failing.length === 0 ? { state: 'up' } : { state: 'degraded', reason: failing.map(([k, v]) => `${k}: ${v}`).join('; ').slice(0, 500) };
  });
  const health = (): Promise<HealthParts> => board.report();

  const onMessage = async (topic: string, payload: Buffer, publish: (t: string, body: string) => void): Promise<void> => {
    const source = `mqtt:${topic}`;
    const parsed = parseEdgeTopic(topic);
    if (!parsed || parsed.channel !== 'uplink') {
      await pipeline.deadLetter([{ source, edge: null, seq: null, code: 'ERR_TOPIC', reason: `not an uplink topic: ${topic}`, payload: clip(payload.toString('utf8')) }], { retry: true });
      return;
    }
    if (payload.length > config.maxEnvelopeBytes) {
      await pipeline.deadLetter([{ source, edge: parsed.edge, seq: null, code: 'ERR_TOO_LARGE', reason: `envelope of ${payload.length} bytes exceeds ${config.maxEnvelopeBytes}`, payload: clip(payload.toString('utf8')) }], { retry: true });
      return;
    }
    const prepared = prepareEnvelope(payload, source, parsed.edge, { time: timeWindow() });
    if (prepared.kind === 'dead') {
      log.warn({ edge: parsed.edge, code: prepared.record.code, reason: prepared.record.reason }, 'envelope rejected');
      await pipeline.deadLetter([prepared.record], { retry: true });
      return;
    }
    pipeline.counters.clockAdjusted += prepared.clockAdjusted;
    // The broker's ACL ties the topic's edge to its login; the site comes from the registered identity.
    const refusal = originRefusal(prepared.batch, await edges.identity(parsed.edge), config.api.edgeAuth, () => payload.toString('utf8'));
    if (refusal) {
      log.warn({ edge: parsed.edge, code: refusal.code }, 'envelope refused: not under the edge\'s identity');
      await pipeline.deadLetter([refusal], { retry: true });
      return;
    }
    const r = await pipeline.write(prepared.batch, { retry: true });
    // The edge's outbox advances on this receipt only; it goes out before the PUBACK (same connection, in order).
    const ack: DownMessage = { v: 1, type: 'ack', edge: parsed.edge, upTo: r.upTo };
    const down = edgeDownTopic(parsed.edge);
    publish(down, await signer.payloadFor(down, JSON.stringify(ack)));
  };

  let storeStarted = false;
  const startParts = async (): Promise<void> => {
    await store.start();
    storeStarted = true;
    pipeline.start();
    // Per-request lines are info; at warn the hot ingest path logs only what went wrong. Typed as Fastify's
    // view of a logger, so the app is the plain FastifyInstance every route module takes.
    const httpLog: FastifyBaseLogger = log.child({ part: 'http' }, { level: log.isLevelEnabled('warn') ? 'warn' : log.level });
    const server: FastifyInstance = Fastify({
      loggerInstance: httpLog,
      bodyLimit: config.maxEnvelopeBytes,
    });
    app = server;
    if (config.api.enabled) {
      alarms = deps.alarms ?? createAlarmService({ db: store, publish: publishDown, ...(notifier ? { notifier } : {}), logger: log.child({ part: 'alarms' }), ...(deps.clock ? { clock: deps.clock } : {}) });
      await alarms.start();
      rules = new RuleEngine({ alarms, logger: log.child({ part: 'rules' }), ...(deps.rules ? { rules: deps.rules } : {}), ...(deps.clock ? { clock: deps.clock } : {}) });
      await rules.start();
    }
    // Before the ingest routes, so OpenAPI (registered by the API) lists them too.
    if (config.api.enabled && alarms) {
      await registerApi(server, {
        db: store, edges, alarms, ...(rules ? { rules } : {}), publish: publishDown, logger: log.child({ part: 'api' }), adminToken: config.api.adminToken ?? undefined,
        snapshotsDir: config.api.snapshotsDir ?? undefined, publicUrl: config.api.publicUrl ?? undefined, sessionTtlSec: config.api.sessionTtlSec, rateLimit: { max: config.api.rateLimitMax, timeWindowMs: config.api.rateLimitWindowMs },
        care: { locationRetentionDays: config.care.locationRetentionDays }, flood, evidence: { store: evidence, defaults: evidenceDefaults },
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
    }
    if (!server.hasRequestDecorator('edgeIdentity')) server.decorateRequest('edgeIdentity', null);
    if (!config.api.edgeAuth) {
      log.warn('INGEST_EDGE_AUTH is off (development only): anyone who reaches POST /ingest/v1/envelopes may write as any edge of any unregistered site, and envelopes from unregistered edges are accepted on MQTT');
    }
    // Failed edge logins on the HTTP ingest leave a dead letter, as refused envelopes do, but only an address's
    // small share of them (flood.ts): past it they are counted, so a flood of refusals stores nothing (issue 13).
    const recordRefusal = boundedDeadLetters((r) => pipeline.deadLetter([r], { retry: false }), log.child({ part: 'http' }));
    const edgeAuth = edgeAuthHook(edges, (claimed, reason, req) => {
      if (flood.recordJunk(req.ip)) recordRefusal({ source: 'http', edge: claimed, seq: null, code: 'ERR_UNAUTHENTICATED', reason, payload: '' });
    });
    registerRoutes(server, {
      pipeline, health, timeWindow, flood, maxEnvelopeBytes: config.maxEnvelopeBytes, ...(config.api.edgeAuth ? { edgeAuth } : {}),
      evidence: { db: store, store: evidence, edges, maxClipBytes: config.evidence.maxClipBytes, defaults: evidenceDefaults, logger: log.child({ part: 'evidence' }), counters: evidenceCounters },
    });
    registerMetrics(server, createIngestMetrics({ counters: () => pipeline.counters, store, flood: () => flood.counts, evidence: () => evidenceCounters }));
    await server.listen({ host: config.host, port: config.port });
    const addr = server.server.address();
    if (addr && typeof addr === 'object') bound = { host: addr.address, port: addr.port };
    if (config.mqttUrl) {
      consumer = new MqttConsumer({
        url: config.mqttUrl, protocolVersion: config.mqttProtocol, clientId: config.clientId, shareGroup: config.shareGroup, consumers: config.consumers,
        sessionExpirySec: config.sessionExpirySec, keepaliveSec: config.keepaliveSec, retry: config.retry,
        logger: log.child({ part: 'mqtt' }), ...(deps.clock ? { clock: deps.clock } : {}),
      }, onMessage);
      await consumer.start();
    }
    if (config.maintenance.enabled) {
      const raiseFailure = (step: string, reason: string): void => {
        // A step that starts failing raises one alarm for staff (issue 13: failing upkeep must not be silent).
        alarms?.raise({ site: 'cloud', device: 'ingest', type: 'ingest.maintenance_failed', severity: 'major', message: `storage maintenance step "${step}" failed: ${reason}`.slice(0, 512), raisedBy: 'system:maintenance', tags: { step } })
          .catch((err: unknown) => log.warn({ err: (err as Error).message, step }, 'maintenance alarm not raised'));
      };
      const evidenceRetention = new EvidenceRetention({ db: store, store: evidence, defaultRetentionDays: config.evidence.defaultRetentionDays, logger: log.child({ part: 'evidence' }), ...(deps.clock ? { clock: deps.clock } : {}) });
      maintenance = new Maintenance(store, { ...config.maintenance, locationRetentionDays: config.care.locationRetentionDays, evidence: evidenceRetention, logger: log.child({ part: 'maintenance' }), onStepFailed: raiseFailure, ...(deps.clock ? { clock: deps.clock } : {}) });
      const m = maintenance;
      maintenanceFailing = () => m.failing();
      await maintenance.start();
    }
    log.info({ http: `${bound.host}:${bound.port}`, store: store.kind, mqtt: config.mqttUrl ?? 'off' }, 'cloud ingest started');
  };

  const stopParts = async (): Promise<void> => {
    await maintenance?.stop();
    maintenance = undefined;
    pipeline.stop();
    await consumer?.stop();
    consumer = undefined;
    await app?.close();
    app = undefined;
    await rulesTail;
    await rules?.stop();
    rules = undefined;
    await alarms?.stop();
    alarms = undefined;
    if (storeStarted) {
      storeStarted = false;
      await store.stop();
    }
  };

  return {
    config,
    store,
    evidence,
    edges,
    counters: () => ({ ...pipeline.counters }),
    health,
    address: () => bound,
    async idle() {
      // Batches committed while waiting extend the chain; wait until it stops growing.
      for (let tail = rulesTail; ; tail = rulesTail) {
        await tail;
        if (tail === rulesTail) return;
      }
    },
    async start() {
      try {
        await startParts();
      } catch (err) {
        // Whatever did start is stopped again, so a failed start leaves no pool, port or connection open.
        await stopParts().catch((stopErr: unknown) => log.warn({ err: (stopErr as Error).message }, 'cleanup after a failed start failed'));
        throw err;
      }
    },
    stop: () => stopParts(),
  };
}
