/**
 * Runs the ingest as a process. Configuration: an optional JSON file named by INGEST_CONFIG_FILE, then
 * the environment on top (DATABASE_URL, MQTT_URL, PORT, HOST, INGEST_SHARE_GROUP, MQTT_CLIENT_ID,
 * PGLITE_DATA_DIR, LOG_LEVEL). SIGINT/SIGTERM stop it in order.
 */
import { readFileSync } from 'node:fs';
import { CodedError, createLogger } from '@safe-community/runtime';
import { configFromEnv } from './config.js';
import { createIngestService } from './service.js';

function fileConfig(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CodedError('ERR_CONFIG', `cannot read INGEST_CONFIG_FILE ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const log = createLogger({ name: 'cloud-ingest' });
const service = createIngestService({ ...fileConfig(process.env.INGEST_CONFIG_FILE), ...configFromEnv() }, { logger: log });
await service.start();
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    service.stop().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'stop failed');
      process.exit(1);
    });
  });
}
