/**
 * One error shape for the whole API: `{ code, message }` (+ `issues` for validation), with the HTTP status
 * of the stable code in the error-code catalogue (runtime error-codes.ts). Codes without a status there,
 * and unknown errors, are 500 ERR_INTERNAL and their message is not shown.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorCode, httpStatusOf } from '@safe-community/runtime';

/** The status a code answers with (the catalogue's); undefined for codes without one. */
export function statusForCode(code: string): number | undefined {
  return httpStatusOf(code);
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
