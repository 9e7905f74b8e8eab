import t from 'tap';
import { createLogger } from '@safe-community/runtime';
import { PgliteStore } from '@safe-community/cloud-ingest';
import { storeContract } from './helpers/store-contract.js';

const store = new PgliteStore({ logger: createLogger({ level: 'silent' }) });
t.teardown(() => store.stop());

storeContract(t, async () => {
  await store.start();
  return store;
});
