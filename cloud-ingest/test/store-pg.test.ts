import t from 'tap';
import { checkStoreVariant, freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { PgStore } from '@safe-community/cloud-ingest';
import { storeContract } from './helpers/store-contract.js';

const db = await freshDatabase('store');
// copyThreshold below the large-batch test's size, so the COPY path is what that test covers here.
const store = new PgStore({ url: db.url, copyThreshold: 1000, logger: createLogger({ level: 'silent' }) });
t.teardown(async () => {
  await store.stop();
  await db.drop();
});

storeContract(t, async () => {
  await store.start();
  // The contract holds on the variant the server offers: plain PostgreSQL, or TimescaleDB in its pass.
  await checkStoreVariant(store.timescale);
  return store;
});
