/**
 * The HTTP side of dispatch for handheld terminals that poll instead of holding an MQTT session:
 *   GET  /terminals/:terminal/dispatches                       pending dispatches with their alarms
 *   POST /terminals/:terminal/dispatches/:id/accept|arrive      a step
 *   POST /terminals/:terminal/dispatches/:id/feedback {text}    the guard's report; the dispatch is done
 * A Fastify plugin: it takes the alarm service and a `verify` hook that decides whether the request may
 * speak for that terminal (device credentials are the deployment's choice), and answers errors as
 * `{code, message}` with the status of the code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CodedError, errorCode, httpStatusOf } from '@safe-community/runtime';
import type { AlarmService, AlarmView } from './types.js';

export interface TerminalRoutesOptions {
  alarms: Pick<AlarmService, 'pendingDispatches' | 'terminalReport'>;
  /** True when the request may act for this terminal (e.g. checks its bearer token). */
  verify(req: FastifyRequest, terminal: string): boolean | Promise<boolean>;
  /**
   * True when the caller may see and act on an alarm of this site (the API: the actor's sites). Dispatches of
   * other sites are left out of the poll and answer ERR_DISPATCH_NOT_FOUND to a step, as if they did not exist.
   */
  inScope?(req: FastifyRequest, site: string): boolean;
  /** Shapes the polled alarms for the caller (the API hides residents' positions outside the caller's teams). */
  scopeAlarms?(req: FastifyRequest, alarms: AlarmView[]): Promise<AlarmView[]>;
  /**
   * Status for codes of the hosting app (the API's authentication runs in this scope's hooks and throws
   * ERR_UNAUTHENTICATED: without this it answered 500, issue 13).
   */
  statusFor?(code: string): number | undefined;
}

const Params = Type.Object({ terminal: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) }, { additionalProperties: false });
const StepParams = Type.Object({
  terminal: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
  id: Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F-]{36}$' }),
  step: Type.Union([Type.Literal('accept'), Type.Literal('arrive')]),
}, { additionalProperties: false });
const FeedbackParams = Type.Object({
  terminal: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
  id: Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F-]{36}$' }),
}, { additionalProperties: false });
const FeedbackBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });

export async function terminalRoutes(fastify: FastifyInstance, opts: TerminalRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ code: 'ERR_VALIDATION', message: err.message });
    const code = errorCode(err);
    const status = httpStatusOf(code) ?? opts.statusFor?.(code);
    if (status) return reply.code(status).send({ code, message: err.message });
    const own = err.statusCode ?? 500;
    if (own >= 500) reply.log.error({ err }, 'terminal route failed');
    return reply.code(own).send({ code, message: own < 500 ? err.message : 'internal error' });
  });
  const allowed = async (req: FastifyRequest, reply: FastifyReply, terminal: string): Promise<boolean> => {
    if (await opts.verify(req, terminal)) return true;
    await reply.code(401).send({ code: 'ERR_UNAUTHORIZED', message: `not authorised for terminal ${terminal}` });
    return false;
  };

  const checkScope = async (req: FastifyRequest, terminal: string, id: string): Promise<void> => {
    if (!opts.inScope) return;
    const d = (await opts.alarms.pendingDispatches(terminal)).find((x) => x.id === id);
    // A dispatch no longer pending gets its own answer from terminalReport (state or not found).
    if (d && !opts.inScope(req, d.alarm.site)) throw new CodedError('ERR_DISPATCH_NOT_FOUND', `no dispatch ${id} for terminal ${terminal}`);
  };

  app.get('/terminals/:terminal/dispatches', { schema: { params: Params } }, async (req, reply) => {
    const { terminal } = req.params;
    if (!(await allowed(req, reply, terminal))) return reply;
    const dispatches = (await opts.alarms.pendingDispatches(terminal)).filter((d) => opts.inScope?.(req, d.alarm.site) ?? true);
    if (!opts.scopeAlarms) return { dispatches };
    const alarms = await opts.scopeAlarms(req, dispatches.map((d) => d.alarm));
    return { dispatches: dispatches.map((d, i) => ({ ...d, alarm: alarms[i] ?? d.alarm })) };
  });

  app.post('/terminals/:terminal/dispatches/:id/:step', { schema: { params: StepParams } }, async (req, reply) => {
    const { terminal, id, step } = req.params;
    if (!(await allowed(req, reply, terminal))) return reply;
    await checkScope(req, terminal, id);
    return opts.alarms.terminalReport(id, terminal, step);
  });

  app.post('/terminals/:terminal/dispatches/:id/feedback', { schema: { params: FeedbackParams, body: FeedbackBody } }, async (req, reply) => {
    const { terminal, id } = req.params;
    if (!(await allowed(req, reply, terminal))) return reply;
    await checkScope(req, terminal, id);
    return opts.alarms.terminalReport(id, terminal, 'feedback', req.body.text);
  });
}
