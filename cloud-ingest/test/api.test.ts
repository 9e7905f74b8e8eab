/** The REST API suite (api-suite.ts) on PostgreSQL. */
import { apiSuite } from './api-suite.js';

await apiSuite('pg');
