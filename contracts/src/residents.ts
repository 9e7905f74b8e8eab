/**
 * The residents file of elderly care (issue 8): who wears which wearable, what they consented to, whom to
 * call, where home is, when their night is, and their own vital-sign limits. The edge runs its rules from
 * it; the cloud keeps the same file to escalate to each resident's contacts and to scope location history.
 * Both validate it with this schema plus `residentsProblem` (what a schema cannot say).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Id, Timestamp } from './common.js';

const HhMm = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local time HH:MM' });
const LatLon = Type.Object(
  { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
  { additionalProperties: false },
);
export type LatLon = Static<typeof LatLon>;

/** One vital sign's limits. Hysteresis: once out of range, a value must come back this far inside to clear. */
const VitalLimits = (d: { low: number; high: number; hysteresis: number }) => Type.Object(
  {
    low: Type.Number({ default: d.low, description: 'alarm below this' }),
    high: Type.Number({ default: d.high, description: 'alarm above this' }),
    hysteresis: Type.Number({ minimum: 0, default: d.hysteresis, description: 'clears only at low + h … high − h' }),
    minDurationS: Type.Integer({ minimum: 0, maximum: 3600, default: 300, description: 'out of range this long before an alarm' }),
  },
  { additionalProperties: false, default: {} },
);

export const Contact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    role: Type.Union([Type.Literal('family'), Type.Literal('guard_team')]),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
    team: Type.Optional(Type.String({ maxLength: 64, description: 'guard team id, for role guard_team' })),
  },
  { additionalProperties: false },
);

export const Resident = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 128 }),
    wearable: Id,
    building: Type.Optional(Type.String({ maxLength: 64, description: 'defaults to the wearable device tag' })),
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    consent: Type.Object(
      {
        givenAt: Timestamp,
        givenBy: Type.String({ minLength: 1, maxLength: 128, description: 'the resident, or their guardian by name' }),
        scope: Type.Array(
          Type.Union([Type.Literal('alerts'), Type.Literal('location'), Type.Literal('vitals'), Type.Literal('activity')]),
          { minItems: 1, uniqueItems: true },
        ),
      },
      { additionalProperties: false },
    ),
    contacts: Type.Array(Contact, { minItems: 1 }),
    geofence: Type.Object(
      {
        polygon: Type.Array(LatLon, { minItems: 3, maxItems: 64 }),
        marginM: Type.Number({ minimum: 0, maximum: 500, default: 15, description: 'a fix must be this far past the fence line to count as a crossing (GPS jitter)' }),
      },
      { additionalProperties: false },
    ),
    quietHours: Type.Object({ start: HhMm, end: HhMm }, { additionalProperties: false, description: 'the resident\'s night; may wrap midnight' }),
    vitals: Type.Object(
      {
        heartRate: VitalLimits({ low: 45, high: 120, hysteresis: 10 }),
        spo2: VitalLimits({ low: 90, high: 101, hysteresis: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    inactivityHours: Type.Number({ minimum: 0.25, maximum: 24, default: 3, description: 'daytime hours without steps or movement' }),
    heartbeatIntervalS: Type.Integer({ minimum: 10, maximum: 86_400, default: 600 }),
    missedHeartbeats: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'silent after this many intervals' }),
    fallCancelS: Type.Integer({ minimum: 0, maximum: 600, default: 60, description: 'time to press I\'m OK after a fall' }),
    batteryLowPct: Type.Number({ minimum: 1, maximum: 90, default: 20 }),
  },
  { additionalProperties: false },
);
export type Resident = Static<typeof Resident>;
export type Contact = Static<typeof Contact>;

export const ResidentsFile = Type.Object(
  {
    version: Type.Literal(1),
    timeZone: Type.String({ minLength: 1, default: 'UTC', description: 'IANA zone for quiet hours and daytime' }),
    /** Episode window: alarms of one resident closer than this to the previous one share an episode id. */
    episodeGapS: Type.Integer({ minimum: 60, maximum: 86_400, default: 1800 }),
    /** Wandering: this many geofence crossings within windowS, or any exit at night. */
    wandering: Type.Object(
      {
        crossings: Type.Integer({ minimum: 2, maximum: 50, default: 4 }),
        windowS: Type.Integer({ minimum: 60, maximum: 86_400, default: 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    residents: Type.Array(Resident),
  },
  { additionalProperties: false },
);
export type ResidentsFile = Static<typeof ResidentsFile>;

/** Checks the schema cannot express: unique ids, one resident per wearable, a known zone, usable vital limits. */
export function residentsProblem(file: ResidentsFile): string | undefined {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: file.timeZone });
  } catch {
    return `unknown time zone "${file.timeZone}"`;
  }
  const ids = new Set<string>();
  const wearables = new Set<string>();
  for (const r of file.residents) {
    if (ids.has(r.id)) return `resident ${r.id} is listed twice`;
    if (wearables.has(r.wearable)) return `wearable ${r.wearable} is assigned to two residents`;
    ids.add(r.id);
    wearables.add(r.wearable);
    for (const v of [r.vitals.heartRate, r.vitals.spo2]) {
      if (v.low + v.hysteresis > v.high - v.hysteresis) return `resident ${r.id}: vital limits leave no normal band after hysteresis`;
    }
  }
  return undefined;
}
