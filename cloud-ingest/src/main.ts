/** Runs the ingest from the environment: DATABASE_URL, MQTT_URL, PORT, HOST, INGEST_SHARE_GROUP, MQTT_CLIENT_ID. */
import { createLogger } from '@safe-community/runtime';
import { configFromEnv } from './config.js';
import { createIngestService } from './service.js';

const log = createLogger({ name: 'cloud-ingest' });
const service = createIngestService(configFromEnv(), { logger: log });
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
