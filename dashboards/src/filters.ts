/**
 * Filters shared by the boards: the site and building variables applied to each table's columns.
 * Only events and alarms carry a building tag; telemetry and device status are tied to a building through
 * the devices' recent events.
 */
import { ALL_VALUE, inVar, timeFrom } from './macros.js';
import { inList } from './sql.js';

/** Alarm states that still need a person (contracts AlarmState). */
export const ACTIVE_STATES = ['open', 'acknowledged', 'dispatched'] as const;

export function activeAlarm(alias: string): string {
  return inList(`${alias}.state`, ACTIVE_STATES);
}

export function bySite(alias: string): string {
  return inVar(`${alias}.site`, 'site');
}

/** Rows whose `tags.building` is among the chosen buildings (all rows on "All"). */
export function byBuilding(alias: string): string {
  return inVar(`(${alias}.tags->>'building')`, 'building');
}

/** Devices seen in the chosen buildings during the week before the range (for tables without tags). */
export function deviceInBuilding(deviceExpr: string): string {
  return (
    `(${ALL_VALUE} IN ($building) OR ${deviceExpr} IN (SELECT be.device FROM events be ` +
    `WHERE be.tags->>'building' IN ($building) AND be.time > ${timeFrom()}::timestamptz - INTERVAL '7 days'))`
  );
}

/** Severity order for sorting: critical first. */
export function severityRank(expr: string): string {
  return `array_position(ARRAY['critical','major','minor','info'], ${expr})`;
}
