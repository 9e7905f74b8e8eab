export * from './types.js';
export { AlarmLifecycle, createAlarmService, ALARM_ERROR_STATUS, type AlarmServiceOptions } from './service.js';
export { Db, type Tx } from './db.js';
export { Dispatches, terminalDispatchTopic, type TerminalStep } from './dispatch.js';
export { DEFAULT_ESCALATION, DEFAULT_CHANNELS, ESCALATE_TIMER, nextDue } from './escalation.js';
export { groupKeyOf } from './incidents.js';
export { PersistentTimers, scheduleTimer, cancelTimer, type DueTimer, type TimerHandler } from './timers.js';
export { RecordingNotifier } from './notifier.js';
export { terminalRoutes, type TerminalRoutesOptions } from './terminal-routes.js';
