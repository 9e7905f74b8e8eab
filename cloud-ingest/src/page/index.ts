export { alarmPagePlugin, type AlarmPageDeps } from './plugin.js';
export { snapshotPath, readSnapshot } from './snapshots.js';
