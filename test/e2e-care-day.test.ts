/**
 * Issue 8, done-when: the simulated day of five residents, through the real edge (broker, gateway, care
 * monitor, outbox), uplink, ingest and alarm lifecycle, gives exactly the expected incidents: count, kind,
 * resident and every escalation step (who was called, when, at which level), with no duplicates and no
 * flapping. On PostgreSQL here, on PGlite in e2e-care-day-pglite.test.ts; the cloud-down variant is
 * e2e-care-outage.test.ts.
 */
import t from 'tap';
import { runCareDay } from './fixtures/care-expected.js';

t.test('the simulated care day gives exactly the expected incidents and calls (postgres)', (t) => runCareDay(t, 'postgres'));
