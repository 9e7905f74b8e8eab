import { Type, type Static } from '@sinclair/typebox';

/** Identifiers used in topics: no MQTT wildcards or separators, so a topic level is always one id. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Uuid = Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F-]{36}$' });
/** `Id` as a regular expression, for checks without a schema (topic levels, headers, folder names). */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A UUID in either case: what the `uuid` format accepts. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO-8601 timestamp with a zone, e.g. 2026-11-29T10:00:00.000Z. */
export const Timestamp = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'ISO-8601 time with zone',
});
export const Severity = Type.Union(
  [Type.Literal('info'), Type.Literal('minor'), Type.Literal('major'), Type.Literal('critical')],
  { description: 'info < minor < major < critical; critical is life safety' },
);
export type Severity = Static<typeof Severity>;
/** Every severity, lowest first: the one order the edge, the cloud's SQL and the API share. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['info', 'minor', 'major', 'critical'] as const);
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.freeze({ info: 0, minor: 1, major: 2, critical: 3 });

/** Free-form location and grouping tags used by rule filters (building, zone, floor, group…). */
export const Tags = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 128 }));
export type Tags = Static<typeof Tags>;

export const DeviceKind = Type.Union([
  Type.Literal('access_gate'),
  Type.Literal('car_barrier'),
  Type.Literal('fire_panel'),
  Type.Literal('wearable'),
  Type.Literal('env_sensor'),
  Type.Literal('camera'),
  Type.Literal('display'),
]);
export type DeviceKind = Static<typeof DeviceKind>;
