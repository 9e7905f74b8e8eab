/** The REST API suite (api-suite.ts) on PGlite, the embedded default store. */
import { apiSuite } from './api-suite.js';

await apiSuite('pglite');
