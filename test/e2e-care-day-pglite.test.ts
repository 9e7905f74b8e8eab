/** The simulated care day of e2e-care-day.test.ts, on the embedded PGlite store (the one-machine start). */
import t from 'tap';
import { runCareDay } from './fixtures/care-expected.js';

t.test('the simulated care day gives exactly the expected incidents and calls (pglite)', (t) => runCareDay(t, 'pglite'));
