/** Elderly care: wearables on a script's clock and a scripted day in the life of five residents. */
export { CareWearable } from './care-wearable.js';
export type { CareDialect, CareVitals, CareWearableOptions, Position } from './care-wearable.js';
export { DAY_RESIDENTS, DAY_START, DAY_TIME_ZONE, HEARTBEAT_S, dayResidents, dayScript, runDay } from './day.js';
export type { DayResident, DayAction, DayStep, RunDayOptions, ScriptClock } from './day.js';
