/**
 * Consent at the edge: a measurement of an enrolled resident's wearable leaves the device broker (to the
 * care rules, the outbox, the cloud) only when the resident consented to what it measures: location
 * (wearable.lat/lon), vitals (heart rate, SpO2), activity (steps). Battery and other device figures always
 * do. Wearables nobody is enrolled with are not filtered here.
 */
import type { Telemetry } from '@safe-community/contracts';
import type { ResidentsFile } from './residents.js';
import { CARE_METRICS } from './tracker.js';

const CONSENT_OF: Readonly<Record<string, 'location' | 'vitals' | 'activity'>> = {
  [CARE_METRICS.lat]: 'location',
  [CARE_METRICS.lon]: 'location',
  [CARE_METRICS.heartRate]: 'vitals',
  [CARE_METRICS.spo2]: 'vitals',
  [CARE_METRICS.steps]: 'activity',
};

export function consentFilter(file: Pick<ResidentsFile, 'residents'>): (point: Pick<Telemetry, 'device' | 'metric'>) => boolean {
  const byWearable = new Map(file.residents.map((r) => [r.wearable, new Set<string>(r.consent.scope)]));
  return (point) => {
    const scope = CONSENT_OF[point.metric];
    if (!scope) return true;
    const consent = byWearable.get(point.device);
    return !consent || consent.has(scope);
  };
}
