/** Every dashboard and the files generated from them (committed under dashboards/). */
import { renderAlertRules } from './alerts.js';
import { accessBarriers } from './boards/access-barriers.js';
import { alarmConsole } from './boards/alarm-console.js';
import { edgeHealth } from './boards/edge-health.js';
import { elderlyCare } from './boards/elderly-care.js';
import { fireEvacuation } from './boards/fire-evacuation.js';
import { siteOverview } from './boards/site-overview.js';
import { videoAnalytics } from './boards/video-analytics.js';
import { DEFAULT_OPTIONS, type BoardOptions, type BuiltBoard } from './boards/common.js';

export const boardFactories: readonly ((opts: BoardOptions) => BuiltBoard)[] = [
  alarmConsole,
  siteOverview,
  fireEvacuation,
  accessBarriers,
  videoAnalytics,
  elderlyCare,
  edgeHealth,
];

export function buildBoards(opts: BoardOptions = DEFAULT_OPTIONS): BuiltBoard[] {
  const boards = boardFactories.map((f) => f(opts));
  const uids = new Set<string>();
  for (const b of boards) {
    if (uids.has(b.uid)) throw new Error(`duplicate dashboard uid ${b.uid}`);
    uids.add(b.uid);
  }
  return boards;
}

export const GENERATED_DIR = 'dashboards/generated';
export const ALERT_RULES_FILE = 'dashboards/provisioning/alerting/rules.yaml';

/** Path (relative to the repository root) → content, for every generated file. */
export function generatedFiles(opts: BoardOptions = DEFAULT_OPTIONS): Map<string, string> {
  const files = new Map<string, string>();
  for (const b of buildBoards(opts)) files.set(`${GENERATED_DIR}/${b.uid}.json`, `${JSON.stringify(b.dashboard, null, 2)}\n`);
  files.set(ALERT_RULES_FILE, renderAlertRules());
  return files;
}
