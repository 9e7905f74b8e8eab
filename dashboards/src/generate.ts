/**
 * `npm run dashboards`: writes the dashboards' JSON and the alert rules file, and removes generated
 * dashboards that no longer exist. ALARM_PAGE_URL changes the alarm page base URL baked in as the
 * variable's default (the committed files use the default, and the tests compare against it).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS } from './boards/common.js';
import { writeGenerated } from './write.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

writeGenerated(root, { ...DEFAULT_OPTIONS, alarmPageUrl: process.env.ALARM_PAGE_URL ?? DEFAULT_OPTIONS.alarmPageUrl }).then(
  ({ written, removed }) => {
    for (const f of written) console.log(`wrote ${f}`);
    for (const f of removed) console.log(`removed stale ${f}`);
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
