/**
 * Where a resident's position lives in stored data, for everything that scopes, strips or expires it
 * (the API's location scope, maintenance's retention, calls leaving the service).
 */

/** Telemetry metrics that are a resident's position (the wearable's own fixes). */
export const LOCATION_METRICS: readonly string[] = ['wearable.lat', 'wearable.lon'];
/** Tags of care events and alarms that hold the last fix (edge-agent/src/care/records.ts). */
export const FIX_TAGS: readonly string[] = ['last_lat', 'last_lon', 'last_fix_at'];

/** The tags without the last fix. */
export function withoutFix(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => !FIX_TAGS.includes(k)));
}
