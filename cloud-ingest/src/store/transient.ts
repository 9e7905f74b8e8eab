/**
 * Which database failures are worth trying again: the connection went away or could not be made, the
 * server is shutting down or out of connections, or the transaction lost a serialization race or a
 * deadlock. Anything else (a constraint, a bad value, our own CodedErrors) fails the same way twice.
 */
const NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown). */
const SQLSTATE_CLASSES = ['08', '53', '57'];
/** serialization_failure, deadlock_detected. */
const SQLSTATES = new Set(['40001', '40P01']);

export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NODE_CODES.has(code) || SQLSTATES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return SQLSTATE_CLASSES.includes(code.slice(0, 2));
  // node-postgres reports a dropped connection without a code.
  return !code && typeof e?.message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message);
}
