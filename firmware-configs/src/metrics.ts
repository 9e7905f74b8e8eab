/**
 * The one naming rule for device telemetry: a profile names a measurement by itself (`heart_rate`, `lat`),
 * and the edge sends it as `<device kind>.<name>` (`wearable.heart_rate`, `wearable.lat`,
 * `env_sensor.temperature`). The kind comes from the profile, so no vendor profile can put its points in
 * another kind's namespace, and two kinds measuring the same thing (a wearable's and an air sensor's
 * `battery`) stay apart. The agent's own metrics are `edge.*` and are not made here.
 */
import type { Profile } from './schema.js';

/** The telemetry metric name a device of `kind` sends for a profile's `metric`. */
export function telemetryMetric(kind: string, metric: string): string {
  return `${kind}.${metric}`;
}

/** Every telemetry metric a profile can emit, as sent (`<kind>.<name>`), sorted. */
export function profileMetrics(profile: Profile): string[] {
  const names = new Set<string>();
  for (const rule of profile.inbound) {
    if (rule.emit === 'telemetry') for (const m of rule.metrics) names.add(telemetryMetric(profile.kind, m.metric));
  }
  return [...names].sort();
}

/** Every telemetry metric any of the profiles can emit, sorted. */
export function deviceMetrics(profiles: Iterable<Profile>): string[] {
  const names = new Set<string>();
  for (const p of profiles) for (const m of profileMetrics(p)) names.add(m);
  return [...names].sort();
}
