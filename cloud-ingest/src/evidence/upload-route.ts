/**
 * The resumable evidence upload of the HTTP ingest (issue 16, item 4; the contract is fixed with the edge):
 *
 *   HEAD /ingest/v1/evidence/:clip → 200 `upload-offset`, `upload-complete: 1|0`; 404 when nothing is stored
 *   PUT  /ingest/v1/evidence/:clip → one chunk, `content-range: bytes START-END/TOTAL`, at most 8 MiB
 *
 * The flood guard runs first, then the edge's credentials, then every check that needs only the headers
 * (size, blur policy, whose clip it is), all before a byte of the body is read. The site and the edge come
 * from the edge's identity, never from the request.
 */
import { ID_RE } from '@safe-community/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { errorCode, type Logger } from '@safe-community/runtime';
import type { Db, EdgeDirectory } from '../auth/index.js';
import type { FloodGuard } from '../flood.js';
import { beginClip, forgetUpload, getClip, markReady, readSettings, type ClipRow, type EvidenceSettings } from './clips-db.js';
import { CLIP_RE } from './file-store.js';
import { EvidenceOffsetError, type EvidenceStore } from './store.js';
import { parseChunkHeaders, type ChunkHeaders } from './upload-headers.js';

/** The largest chunk one PUT may carry (the contract's limit). */
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/** What the upload route did, for /metrics (`ingest_evidence_*`). */
export interface EvidenceCounters {
  /** Clips stored whole (201). */
  stored: number;
  /** Bytes of the clips stored. */
  bytes: number;
  /** Chunks taken (202 and 201). */
  chunks: number;
  /** Uploads discarded for a size or sha256 mismatch (422). */
  hashMismatch: number;
  /** Chunks refused for their headers or the site's policy (400, 403, 409, 413). */
  refused: number;
}

export const newEvidenceCounters = (): EvidenceCounters => ({ stored: 0, bytes: 0, chunks: 0, hashMismatch: 0, refused: 0 });

export interface EvidenceUploadDeps {
  db: Db;
  store: EvidenceStore;
  flood: FloodGuard;
  /** The edges' Basic-auth hook; absent only with INGEST_EDGE_AUTH=0 (development), see identityOf. */
  edgeAuth?: onRequestAsyncHookHandler;
  /** Registered identities, to hold a development-mode claim to a registered edge's own site. */
  edges: EdgeDirectory;
  /** Largest clip accepted (config evidence.maxClipBytes). */
  maxClipBytes: number;
  /** Settings of a site that has none stored (config evidence.defaultRetentionDays). */
  defaults: EvidenceSettings;
  logger: Logger;
  /** Counted into when given (the service passes the ones /metrics reads). */
  counters?: EvidenceCounters;
}

interface Who {
  edge: string;
  site: string;
}

interface Checked {
  who: Who;
  clip: string;
  chunk: ChunkHeaders;
}

class Refusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}


export function registerEvidenceUpload(app: FastifyInstance, deps: EvidenceUploadDeps): void {
  // Own scope: the octet-stream parser and the error answers below touch no other route.
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_CHUNK_BYTES }, (_req, body, done) => done(null, body));
    scope.setErrorHandler(async (err: FastifyError, req, reply) => {
      const own = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 0;
      if (own === 413) return reply.code(413).send({ code: 'ERR_EVIDENCE_CHUNK_TOO_LARGE', message: `a chunk carries at most ${MAX_CHUNK_BYTES} bytes` });
      if (own) return reply.code(own).send({ code: err.code ?? 'ERR_BAD_REQUEST', message: err.message });
      req.log.warn({ err: err.message, code: errorCode(err) }, 'evidence upload failed');
      return reply.code(503).send({ code: 'ERR_STORE_UNAVAILABLE', message: 'the evidence store is not available; retry later' });
    });

    const counters = deps.counters ?? newEvidenceCounters();
    const checked = new WeakMap<FastifyRequest, Checked>();
    const locks = new Map<string, Promise<unknown>>();
    const before: onRequestAsyncHookHandler[] = deps.edgeAuth ? [deps.flood.ingestBefore, deps.edgeAuth] : [deps.flood.ingestBefore];

    /** Serialises the chunks of one clip inside this instance (one edge sends them one at a time anyway). */
    const exclusive = async <T>(clip: string, fn: () => Promise<T>): Promise<T> => {
      const prior = locks.get(clip) ?? Promise.resolve();
      const run = prior.catch(() => undefined).then(fn);
      locks.set(clip, run);
      try {
        return await run;
      } finally {
        if (locks.get(clip) === run) locks.delete(clip);
      }
    };

    const identityOf = async (req: FastifyRequest): Promise<Who> => {
      if (deps.edgeAuth) return req.edgeIdentity!;
      // INGEST_EDGE_AUTH=0 (development): as on the envelope route, the edge says who it is, here in two
      // headers; an edge that is registered is still held to its own site.
      const edge = req.headers['evidence-edge'];
      const site = req.headers['evidence-site'];
      if (typeof edge !== 'string' || !ID_RE.test(edge)) throw new Refusal(400, 'ERR_VALIDATION', 'evidence-edge: is required without edge authentication', { issues: [{ path: 'evidence-edge', reason: 'is required without edge authentication (a device id)' }] });
      if (typeof site !== 'string' || !ID_RE.test(site)) throw new Refusal(400, 'ERR_VALIDATION', 'evidence-site: is required without edge authentication', { issues: [{ path: 'evidence-site', reason: 'is required without edge authentication (a site id)' }] });
      const registered = await deps.edges.identity(edge);
      if (registered && registered.site !== site) throw new Refusal(403, 'ERR_SITE_MISMATCH', `edge ${edge} belongs to site ${registered.site}`);
      return { edge, site };
    };

    const clipOf = (req: FastifyRequest): string => {
      const clip = String((req.params as { clip?: string }).clip ?? '').toLowerCase();
      if (!CLIP_RE.test(clip)) throw new Refusal(400, 'ERR_VALIDATION', 'the clip id must be a UUID', { issues: [{ path: '/params/clip', reason: 'must be a UUID' }] });
      return clip;
    };

    /** A clip id already used by another edge is refused, never overwritten nor shown. */
    const ownRow = (row: ClipRow | null, who: Who): ClipRow | null => {
      if (row && (row.site !== who.site || row.edge !== who.edge)) throw new Refusal(403, 'ERR_EVIDENCE_NOT_YOURS', 'this clip id belongs to another edge');
      return row;
    };

    const answer = (reply: FastifyReply, err: unknown): FastifyReply => {
      if (err instanceof Refusal) {
        if (err.code === 'ERR_EVIDENCE_HASH') counters.hashMismatch++;
        else counters.refused++;
      }
      if (err instanceof Refusal) return reply.code(err.status).send({ code: err.code, message: err.message, ...err.extra });
      const code = errorCode(err);
      if (code === 'ERR_EVIDENCE_NOT_CONFIGURED') return reply.code(503).send({ code, message: (err as Error).message });
      if (code === 'ERR_EVIDENCE_KEY') return reply.code(400).send({ code: 'ERR_VALIDATION', message: (err as Error).message });
      deps.logger.warn({ err: (err as Error).message, code }, 'evidence upload not stored');
      return reply.code(503).send({ code: 'ERR_STORE_UNAVAILABLE', message: 'the evidence store is not available; retry later' });
    };

    const complete = (reply: FastifyReply, row: ClipRow): FastifyReply =>
      reply.code(200).header('upload-offset', String(row.bytes)).header('upload-complete', '1').send({ clip: row.clip, bytes: row.bytes, complete: true });

    scope.route({
      method: 'HEAD', url: '/ingest/v1/evidence/:clip', onRequest: before,
      schema: { tags: ['ingest'], summary: 'How much of an evidence clip the cloud holds (upload-offset, upload-complete); edges only, Basic auth' },
      handler: async (req, reply) => {
        try {
          const who = await identityOf(req);
          const clip = clipOf(req);
          const row = await getClip(deps.db, clip);
          // Another edge's clip looks like no clip at all.
          if (row && (row.site !== who.site || row.edge !== who.edge)) return await reply.code(404).header('upload-offset', '0').header('upload-complete', '0').send();
          if (row?.status === 'ready') return await reply.code(200).header('upload-offset', String(row.bytes)).header('upload-complete', '1').send();
          const size = await deps.store.partialSize({ site: who.site, clip });
          if (!row && size === 0) return await reply.code(404).header('upload-offset', '0').header('upload-complete', '0').send();
          return await reply.code(200).header('upload-offset', String(size)).header('upload-complete', '0').send();
        } catch (err) {
          return answer(reply, err);
        }
      },
    });

    // Everything the headers decide, before the body is read: a refused chunk costs no transfer.
    const precheck = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      try {
        // Without a configured store every call of it is the 503 that names the setting.
        if (deps.store.kind === 'none') await deps.store.partialSize({ site: '', clip: '' });
        const who = await identityOf(req);
        const clip = clipOf(req);
        const chunk = parseChunkHeaders(req.headers);
        if ('issues' in chunk) throw new Refusal(400, 'ERR_VALIDATION', chunk.issues.map((i) => `${i.path}: ${i.reason}`).join('; '), { issues: chunk.issues });
        if (chunk.range.total > deps.maxClipBytes) {
          throw new Refusal(413, 'ERR_EVIDENCE_TOO_LARGE', `a clip of ${chunk.range.total} bytes is over this cloud's limit of ${deps.maxClipBytes}`);
        }
        if (chunk.range.end - chunk.range.start + 1 > MAX_CHUNK_BYTES) {
          throw new Refusal(413, 'ERR_EVIDENCE_CHUNK_TOO_LARGE', `a chunk carries at most ${MAX_CHUNK_BYTES} bytes`);
        }
        const row = ownRow(await getClip(deps.db, clip), who);
        if (row?.status === 'ready') return complete(reply, row);
        if (!chunk.meta.blurred && !(await readSettings(deps.db, who.site, deps.defaults)).allowUnblurred) {
          throw new Refusal(403, 'ERR_EVIDENCE_UNBLURRED', `site ${who.site} does not accept clips with faces unblurred (evidence setting allowUnblurred)`);
        }
        checked.set(req, { who, clip, chunk });
        return undefined;
      } catch (err) {
        return answer(reply, err);
      }
    };

    scope.put('/ingest/v1/evidence/:clip', { onRequest: [...before, precheck], bodyLimit: MAX_CHUNK_BYTES, schema: { tags: ['ingest'], summary: 'One chunk of an evidence clip (content-range, at most 8 MiB, evidence-* headers); edges only, Basic auth' } }, async (req, reply) => {
      const c = checked.get(req)!;
      const { range, meta } = c.chunk;
      const body = Buffer.isBuffer(req.body) ? req.body : null;
      if (!body) return reply.code(415).send({ code: 'ERR_VALIDATION', message: 'content-type: must be application/octet-stream' });
      if (body.length !== range.end - range.start + 1) {
        return reply.code(400).send({ code: 'ERR_VALIDATION', message: `content-range: names ${range.end - range.start + 1} bytes, the body has ${body.length}`, issues: [{ path: 'content-range', reason: `names ${range.end - range.start + 1} bytes, the body has ${body.length}` }] });
      }
      const key = { site: c.who.site, clip: c.clip };
      try {
        return await exclusive(c.clip, async () => {
          const begin = async (): Promise<ClipRow> => ownRow(await beginClip(deps.db, { clip: c.clip, ...c.who, bytes: range.total, ...meta }), c.who)!;
          let row = ownRow(await getClip(deps.db, c.clip), c.who) ?? await begin();
          if (row.status === 'ready') return complete(reply, row);
          if (row.bytes !== range.total || row.sha256 !== meta.sha256) {
            // The edge made the file again (a restart while blurring): what was stored of the old one is
            // useless. It is dropped; a chunk from 0 begins the new file, any other is sent back to 0.
            await deps.store.discardPartial(key);
            await forgetUpload(deps.db, c.clip);
            if (range.start !== 0) throw new EvidenceOffsetError(0);
            row = await begin();
          }
          const offset = await deps.store.partialSize(key);
          // A chunk already stored: the edge missed our answer and sent it again.
          if (range.end < offset) return reply.code(200).header('upload-offset', String(offset)).header('upload-complete', '0').send({ clip: c.clip, upTo: offset });
          if (range.start !== offset) throw new EvidenceOffsetError(offset);
          const size = await deps.store.append(key, range.start, body);
          counters.chunks++;
          if (size < range.total) return reply.code(202).header('upload-offset', String(size)).header('upload-complete', '0').send({ clip: c.clip, upTo: size });
          const stored = await deps.store.finalize(key, { bytes: range.total, sha256: meta.sha256 }, new Date().toISOString().slice(0, 10)).catch(async (err: unknown) => {
            if (errorCode(err) === 'ERR_EVIDENCE_HASH') {
              await forgetUpload(deps.db, c.clip);
              throw new Refusal(422, 'ERR_EVIDENCE_HASH', (err as Error).message);
            }
            throw err;
          });
          await markReady(deps.db, c.clip, stored.storageKey);
          counters.stored++;
          counters.bytes += stored.bytes;
          return reply.code(201).header('upload-offset', String(stored.bytes)).header('upload-complete', '1').send({ clip: c.clip, bytes: stored.bytes });
        });
      } catch (err) {
        if (err instanceof EvidenceOffsetError) {
          counters.refused++;
          return reply.code(409).header('upload-offset', String(err.upTo)).send({ code: 'ERR_EVIDENCE_OFFSET', message: err.message, upTo: err.upTo });
        }
        return answer(reply, err);
      }
    });
  });
}
