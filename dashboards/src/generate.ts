/**
 * `npm run dashboards`: writes the dashboards' JSON and the alert rules file, and removes generated
 * dashboards that no longer exist. The alarm pages' URL is not an input here: the dashboards read the
 * cloud ingest's PUBLIC_URL from the database (Board.alarmPageVariable), so the committed JSON serves every
 * deployment.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS } from './boards/common.js';
import { writeGenerated } from './write.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

writeGenerated(root, DEFAULT_OPTIONS).then(
  ({ written, removed }) => {
    for (const f of written) console.log(`wrote ${f}`);
    for (const f of removed) console.log(`removed stale ${f}`);
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
