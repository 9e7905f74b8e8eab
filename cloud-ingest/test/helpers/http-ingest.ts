/** An ingest over HTTP only (no broker, no maintenance) on a fresh database, for the API and HTTP-ingest tests. */
import { freshDatabase, type FreshDatabase, type Teardown } from '@safe-community/testkit';
import { createIngestService, type IngestService } from '@safe-community/cloud-ingest';

/**
 * Starts the ingest with `config` over the test defaults (silent, any port, no maintenance) on a database
 * named after `prefix`; it is stopped and the database dropped when the test ends. `base` is its URL.
 */
export async function startHttpIngest(t: Teardown, prefix: string, config: Record<string, unknown>): Promise<{ ingest: IngestService; db: FreshDatabase; base: string }> {
  const db = await freshDatabase(prefix);
  t.teardown(() => db.drop());
  const ingest = createIngestService({ logLevel: 'silent', port: 0, databaseUrl: db.url, maintenance: { enabled: false }, ...config });
  await ingest.start();
  t.teardown(() => ingest.stop());
  return { ingest, db, base: `http://127.0.0.1:${ingest.address().port}` };
}
