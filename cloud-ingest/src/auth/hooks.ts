/**
 * Fastify hooks that turn credentials into an identity. Users send `Authorization: Bearer <token>`; edges
 * using the HTTP ingest send `Authorization: Basic base64(<edge>:<secret>)`. Both failures answer 401 with
 * one message, so a caller cannot tell an unknown user from a wrong token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CodedError } from '@safe-community/runtime';
import { bearerToken } from './tokens.js';
import type { UserDirectory } from './directory.js';
import type { EdgeDirectory } from './edges.js';
import type { Actor } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    edgeIdentity: { edge: string; site: string } | null;
  }
}

/** The authenticated actor of a request inside the API scope (the hook has run, so it is set). */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new CodedError('ERR_UNAUTHENTICATED', 'a bearer token is required');
  return req.actor;
}

export function userAuthHook(users: UserDirectory) {
  return async function authenticateUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      reply.header('www-authenticate', 'Bearer');
      throw new CodedError('ERR_UNAUTHENTICATED', 'a bearer token is required');
    }
    const actor = await users.authenticate(token);
    if (!actor) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new CodedError('ERR_UNAUTHENTICATED', 'the token is not valid');
    }
    req.actor = actor;
  };
}

/** For the edges' HTTP ingest: Basic auth with the edge id as user name and its secret as password. */
export function edgeAuthHook(edges: EdgeDirectory, onRefused?: (claimedEdge: string | null, reason: string, req: FastifyRequest) => void) {
  return async function authenticateEdge(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const who = colon > 0 ? await edges.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : null;
    if (!who) {
      onRefused?.(colon > 0 ? decoded.slice(0, Math.min(colon, 64)) : null, m ? 'unknown edge or wrong secret' : 'no edge credentials', req);
      // Answered here rather than thrown: this hook runs on the ingest's routes, outside the API's error handler.
      return reply.code(401).header('www-authenticate', 'Basic realm="edge"')
        .send({ code: 'ERR_UNAUTHENTICATED', message: 'edge credentials are required' });
    }
    req.edgeIdentity = who;
    return undefined;
  };
}
