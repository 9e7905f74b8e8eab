/**
 * HTTP routes of the ingest: health, envelope ingest for edges that can only do HTTPS, and the edges' video
 * evidence uploads (evidence/upload-route.ts). The body is
 * taken as text and parsed here, so a body that is not JSON is recorded in dead_letters like any other
 * rejected input, and answered with the same error shape.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { errorCode, healthHttpStatus, type HealthReport } from '@safe-community/runtime';
import { originRefusal } from './edge-trust.js';
import { prepareEnvelope } from './prepare.js';
import type { Pipeline } from './pipeline.js';
import type { TimeWindow } from './time-sanity.js';
import type { FloodGuard } from './flood.js';
import { registerEvidenceUpload, type EvidenceUploadDeps } from './evidence/upload-route.js';

/** Parts: store, mqtt (when configured), ingest, maintenance; each up / degraded / down with its reason. */
export type HealthParts = HealthReport;

export interface RouteDeps {
  pipeline: Pipeline;
  health(): Promise<HealthParts>;
  maxEnvelopeBytes: number;
  /** Per-address limits before authentication (flood.ts). */
  flood: FloodGuard;
  /** The accepted record times, now (time-sanity.ts). */
  timeWindow: () => TimeWindow;
  /**
   * When given, edges must authenticate (see auth/hooks.ts edgeAuthHook); the envelope must then be their
   * own, edge and site. Absent only under the explicit development setting INGEST_EDGE_AUTH=0.
   */
  edgeAuth?: onRequestAsyncHookHandler;
  /** Video evidence uploads (issue 16), behind the same flood guard and edge authentication as envelopes. */
  evidence?: Omit<EvidenceUploadDeps, 'flood' | 'edgeAuth'>;
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: deps.maxEnvelopeBytes }, (_req, body, done) => done(null, body));

  if (deps.evidence) registerEvidenceUpload(app, { ...deps.evidence, flood: deps.flood, ...(deps.edgeAuth ? { edgeAuth: deps.edgeAuth } : {}) });

  app.get('/health', async (_req, reply) => {
    const report = await deps.health();
    return reply.code(healthHttpStatus(report)).send(report);
  });

  // The rate limit comes first: a flood is refused before credentials are checked or a body is read.
  app.post('/ingest/v1/envelopes', { onRequest: deps.edgeAuth ? [deps.flood.ingestBefore, deps.edgeAuth] : [deps.flood.ingestBefore] }, async (req, reply) => {
    // An authenticated edge may only send its own envelopes: edge and site come from its identity, and an
    // envelope claiming others is refused and recorded (issue 12, item 1).
    const who = deps.edgeAuth ? req.edgeIdentity : null;
    const body = typeof req.body === 'string' ? req.body : '';
    const prepared = prepareEnvelope(body, 'http', who?.edge, { time: deps.timeWindow() });
    if (prepared.kind === 'batch') deps.pipeline.counters.clockAdjusted += prepared.clockAdjusted;
    const refusal = who && prepared.kind === 'batch' ? originRefusal(prepared.batch, who, true, body) : null;
    if (refusal || (prepared.kind === 'dead' && prepared.record.code === 'ERR_EDGE_MISMATCH')) {
      const record = refusal ?? (prepared.kind === 'dead' ? prepared.record : null)!;
      try {
        await deps.pipeline.deadLetter([record], { retry: false });
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'refused envelope not recorded');
      }
      return reply.code(403).send({ code: record.code, message: record.reason });
    }
    try {
      if (prepared.kind === 'dead') {
        if (deps.flood.recordJunk(req.ip)) await deps.pipeline.deadLetter([prepared.record], { retry: false });
        return await reply.code(400).send({ code: prepared.record.code, message: prepared.record.reason, issues: prepared.issues });
      }
      const { batch } = prepared;
      const r = await deps.pipeline.write(batch, { retry: false });
      if (r.gap) {
        return await reply.code(409).send({ code: 'ERR_SEQ_GAP', message: `batch starts past ${r.upTo + 1}; resend from there`, upTo: r.upTo });
      }
      // Rejected records are stored as dead letters and counted as delivered; the edge learns why here.
      const rejected = batch.items
        .filter((i) => !i.ok && i.seq <= r.upTo)
        .map((i) => (i.ok ? null : { seq: i.seq, code: i.code, reason: i.reason }))
        .filter((x) => x !== null)
        .concat(r.refused ?? [], r.isolated)
        .sort((a, b) => a.seq - b.seq);
      return await reply.send({ upTo: r.upTo, duplicates: r.duplicates, deadLettered: r.deadLettered, rejected });
    } catch (err) {
      const code = errorCode(err);
      req.log.warn({ err: (err as Error).message, code }, 'envelope not stored');
      return reply.code(503).send({ code: code === 'ERR_STOPPING' ? code : 'ERR_STORE_UNAVAILABLE', message: 'the store is not available; retry later' });
    }
  });
}
