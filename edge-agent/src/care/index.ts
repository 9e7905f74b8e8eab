/** Elderly care at the edge (issue 8): residents, offline care rules, alarms for the cloud to fuse. */
export { CareMonitor } from './monitor.js';
export type { CareMonitorOptions, CareStats, TelemetrySource } from './monitor.js';
export { loadResidents, parseResidents, Resident, ResidentsFile, Contact } from './residents.js';
export type { LatLon } from './residents.js';
export { ResidentTracker, CARE_METRICS } from './tracker.js';
export type { CareOutput, CareAlarmType, CareNoticeKind, TrackerSettings } from './tracker.js';
export { stepVital } from './vitals.js';
export type { VitalLimits, VitalStep } from './vitals.js';
export { DailyWindow, zoneOffsetMs } from './day-night.js';
export { insidePolygon, distanceM, distanceToEdgeM } from './geo.js';
export { careRecords, stableUuid } from './records.js';
export { consentFilter } from './consent.js';
export type { CareState, ResidentState } from './state.js';
