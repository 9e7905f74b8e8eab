/** The evidence store while no folder is configured: every call is a 503 that says what to set. */
import { CodedError } from '@safe-community/runtime';
import type { EvidenceStore } from './store.js';

const off = (): never => {
  throw new CodedError('ERR_EVIDENCE_NOT_CONFIGURED', 'no evidence store is configured (set EVIDENCE_DIR, config evidence.dir)');
};

export const UNCONFIGURED_EVIDENCE_STORE: EvidenceStore = Object.freeze({
  kind: 'none',
  partialSize: async () => off(),
  append: async () => off(),
  finalize: async () => off(),
  discardPartial: async () => off(),
  stat: async () => off(),
  read: async () => off(),
  delete: async () => off(),
  list: async () => [],
  listPartials: async () => [],
  health: async () => ({ ok: false, detail: 'not configured (EVIDENCE_DIR)' }),
});
