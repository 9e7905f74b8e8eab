import t from 'tap';
import { PgliteStore } from '@safe-community/cloud-ingest';
import { storeContract } from './helpers/store-contract.js';

const store = new PgliteStore();
t.teardown(() => store.stop());

storeContract(t, async () => {
  await store.start();
  return store;
});
