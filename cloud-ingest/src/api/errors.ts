/**
 * One error shape for the whole API: `{ code, message }` (+ `issues` for validation), with the HTTP status
 * chosen from the stable code. Unknown errors are 500 ERR_INTERNAL and their message is not shown.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorCode } from '@safe-community/runtime';

const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  ERR_VALIDATION: 400,
  ERR_BAD_CURSOR: 400,
  ERR_RULES_INVALID: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_ALARM_NOT_FOUND: 404,
  ERR_DEVICE_NOT_FOUND: 404,
  ERR_COMMAND_NOT_FOUND: 404,
  ERR_SNAPSHOT_NOT_FOUND: 404,
  ERR_NO_DISPLAYS: 404,
  ERR_EVIDENCE_NOT_FOUND: 404,
  ERR_EVIDENCE_PENDING: 404,
  ERR_EVIDENCE_KEY: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_ALARM_STATE: 409,
  ERR_RULES_VERSION: 409,
  ERR_RATE_LIMITED: 429,
  ERR_PUBLISH_FAILED: 503,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_EVIDENCE_NOT_CONFIGURED: 503,
});

/** The status a code answers with; undefined for codes this API does not know. */
export function statusForCode(code: string): number | undefined {
  return STATUS_BY_CODE[code];
}

/** `notFound: false` for a second plugin on the same prefix (Fastify allows one not-found handler per prefix). */
export function installErrorHandling(app: FastifyInstance, opts: { notFound?: boolean } = {}): void {
  app.setErrorHandler(async (err: FastifyError & { issues?: unknown }, req: FastifyRequest, reply: FastifyReply) => {
    const code = errorCode(err);
    let status = statusForCode(code);
    let outCode = code;
    let message = err.message;
    if (status === undefined) {
      // Fastify's own client errors (bad JSON, wrong content type, body too large) keep their 4xx and code.
      const own = typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (own >= 400 && own < 500) {
        status = own;
        if (code === 'ERR_UNEXPECTED') outCode = 'ERR_BAD_REQUEST';
      } else {
        status = 500;
        outCode = 'ERR_INTERNAL';
        message = 'internal error; see the server log with the request id';
        req.log.error({ err, reqId: req.id }, 'API request failed');
      }
    }
    const body: Record<string, unknown> = { code: outCode, message, requestId: req.id };
    if (Array.isArray(err.issues)) body.issues = err.issues;
    return reply.code(status).send(body);
  });
  if (opts.notFound === false) return;
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ code: 'ERR_ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, requestId: req.id }));
}
