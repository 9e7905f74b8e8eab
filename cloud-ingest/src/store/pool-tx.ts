/**
 * One transaction on a dedicated pooled connection: BEGIN → fn → COMMIT, ROLLBACK on failure, and a
 * connection that died along the way is dropped from the pool instead of being handed out again. Used by
 * the PostgreSQL store and the alarm service alike.
 */
export interface PooledClient {
  query(sql: string, params?: unknown[]): Promise<unknown>;
  release(err?: Error): void;
  on?(event: 'error', listener: (err: Error) => void): unknown;
  off?(event: 'error', listener: (err: Error) => void): unknown;
}

export async function withPoolTransaction<C extends PooledClient, T>(connect: () => Promise<C>, fn: (client: C) => Promise<T>): Promise<T> {
  const client = await connect();
  let broken: Error | undefined;
  // A checked-out client reports a lost connection as an 'error' event besides failing the query;
  // unheard, that event would end the process. The failed query is what we act on.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on?.('error', onError);
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw err;
  } finally {
    client.off?.('error', onError);
    client.release(broken);
  }
}
