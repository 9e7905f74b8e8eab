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

/** serialization_failure or deadlock_detected: the transaction lost a race and rolled back whole. */
export const isConflict = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
};

/**
 * A catalog row changed under the transaction ("tuple concurrently deleted" or "updated", XX000): DDL lost a
 * race with another session writing the same catalog rows, such as TimescaleDB's job scheduler updating a
 * hypertable's policy jobs while a migration changes that hypertable. The transaction rolled back whole.
 */
export const isCatalogRace = (err: unknown): boolean => {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === 'XX000' && typeof e.message === 'string' && /tuple concurrently (deleted|updated)/.test(e.message);
};

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before try `attempt + 1`, after try `attempt` failed. */
  delayMs: (attempt: number) => number;
  /** Which failures are worth another try. */
  retryIf: (err: unknown) => boolean;
  /** Told of each failure that will be tried again. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs a database unit of work again while it fails in a way `retryIf` accepts, up to `attempts` tries;
 * the last failure is thrown as it is. Only for work that rolls back whole.
 */
export async function retryDb<T>(run: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= o.attempts || !o.retryIf(err)) throw err;
      const delayMs = o.delayMs(attempt);
      o.onRetry?.(err, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
