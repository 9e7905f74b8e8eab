/**
 * The schema of a vendor profile: how one vendor's device speaks on the edge broker, as data.
 *
 * A profile has three parts:
 * - `codec`: how a payload becomes a flat record of named fields (JSON object, delimited text, or hex bytes);
 * - `inbound`: rules that match a topic suffix (and field values) and emit canonical messages from fields;
 * - `commands`: for each canonical command action, the vendor payload to send.
 * Adding a vendor is a new profile file; only a codec that none of the three covers needs code.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DeviceKind, Severity } from '@safe-community/contracts';

const FieldName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', description: 'field name; dots walk into nested JSON objects' });
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const Suffix = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$', description: 'topic suffix after devices/<id>/' });

/** How a value is read: a field name, a constant, or a field with a lookup table, scale or conversion. */
export const ValueExpr = Type.Union([
  FieldName,
  Type.Object({ const: Type.Unknown() }, { additionalProperties: false }),
  Type.Object(
    {
      field: FieldName,
      map: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'vendor value (as text) → canonical value' })),
      scale: Type.Optional(Type.Number({ description: 'multiply a numeric value, e.g. 0.1 for tenths of a degree' })),
      as: Type.Optional(Type.Union([
        Type.Literal('number'), Type.Literal('string'), Type.Literal('boolean'),
        Type.Literal('iso_time'), Type.Literal('epoch_s'), Type.Literal('epoch_ms'),
      ])),
      optional: Type.Optional(Type.Boolean({ description: 'a missing field is left out instead of failing the message' })),
    },
    { additionalProperties: false },
  ),
]);
export type ValueExpr = Static<typeof ValueExpr>;

const ValueMap = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), ValueExpr);

const JsonCodec = Type.Object({ type: Type.Literal('json') }, { additionalProperties: false });

const DelimitedCodec = Type.Object(
  {
    type: Type.Literal('delimited'),
    separator: Type.String({ minLength: 1, maxLength: 4 }),
    /** Record tag (the first field) → names of all fields, the tag included. */
    records: Type.Record(Type.String({ minLength: 1 }), Type.Array(FieldName, { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const HexField = Type.Object(
  {
    name: FieldName,
    bytes: Type.Integer({ minimum: 1, maximum: 64 }),
    as: Type.Optional(Type.Union([Type.Literal('uint'), Type.Literal('uuid'), Type.Literal('ascii')], { description: 'uint (big-endian, default), uuid (16 bytes), ascii' })),
  },
  { additionalProperties: false },
);
export type HexField = Static<typeof HexField>;

const HexCodec = Type.Object(
  {
    type: Type.Literal('hex'),
    /** Tag (first byte as two lowercase hex digits) → byte layout, the tag byte included. */
    records: Type.Record(Type.String({ pattern: '^[0-9a-f]{2}$' }), Type.Array(HexField, { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const Codec = Type.Union([JsonCodec, DelimitedCodec, HexCodec]);
export type Codec = Static<typeof Codec>;

const RuleBase = {
  topic: Suffix,
  when: Type.Optional(Type.Record(FieldName, Scalar, { description: 'field → value that must match (compared as text)' })),
  state: Type.Optional(ValueMap),
};

export const InboundRule = Type.Union([
  Type.Object({
    ...RuleBase,
    emit: Type.Literal('event'),
    kind: Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$' }),
    severity: Severity,
    payload: Type.Optional(ValueMap),
    time: Type.Optional(ValueExpr),
  }, { additionalProperties: false }),
  Type.Object({
    ...RuleBase,
    emit: Type.Literal('telemetry'),
    metrics: Type.Array(Type.Object({
      metric: Type.String({
        pattern: '^[a-z][a-z0-9_.]*$',
        maxLength: 48,
        description: "the measurement's own name, one word (heart_rate, lat; checkProfile refuses dots); the edge sends it as <kind>.<metric> (telemetryMetric)",
      }),
      value: ValueExpr,
      unit: Type.Optional(Type.String({ maxLength: 16 })),
    }, { additionalProperties: false }), { minItems: 1 }),
    time: Type.Optional(ValueExpr),
  }, { additionalProperties: false }),
  Type.Object({ ...RuleBase, emit: Type.Literal('state') }, { additionalProperties: false }),
  Type.Object({
    ...RuleBase,
    emit: Type.Literal('readback'),
    commandId: ValueExpr,
    ok: ValueExpr,
    detail: Type.Optional(ValueExpr),
  }, { additionalProperties: false }),
]);
export type InboundRule = Static<typeof InboundRule>;

/**
 * A value written into a command payload: a literal, or a placeholder string:
 * `$id` (command id), `$action`, `$time` (ISO), `$epoch` (seconds), `$param.<name>`.
 */
export const Template = Type.Union([Type.String({ maxLength: 128 }), Type.Number(), Type.Boolean()]);
export type Template = Static<typeof Template>;

export const CommandTemplate = Type.Union([
  Type.Object({ json: Type.Record(FieldName, Template) }, { additionalProperties: false }),
  Type.Object({ fields: Type.Array(Template, { minItems: 1 }) }, { additionalProperties: false, description: 'delimited: joined by the codec separator' }),
  Type.Object({ bytes: Type.Array(Type.Object({ value: Template, bytes: Type.Integer({ minimum: 1, maximum: 64 }), as: Type.Optional(Type.Union([Type.Literal('uint'), Type.Literal('uuid'), Type.Literal('ascii')])) }, { additionalProperties: false }), { minItems: 1 }) }, { additionalProperties: false, description: 'hex: written as hex text' }),
]);
export type CommandTemplate = Static<typeof CommandTemplate>;

export const Profile = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z][a-z0-9_]*\\.[a-z0-9][a-z0-9_-]*$', description: '<kind>.<vendor>-<dialect>, also the file name' }),
    kind: DeviceKind,
    vendor: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.String({ maxLength: 512 }),
    codec: Codec,
    inbound: Type.Array(InboundRule, { minItems: 1 }),
    commands: Type.Optional(Type.Object({
      topic: Suffix,
      actions: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), CommandTemplate),
    }, { additionalProperties: false })),
  },
  { additionalProperties: false, $id: 'DeviceProfile' },
);
export type Profile = Static<typeof Profile>;

/**
 * What every profile of a kind must cover: canonical command actions, event kinds and metrics (issue 3,
 * item 2). Metrics are the names a profile writes; on the wire they are `<kind>.<metric>` (telemetryMetric).
 */
export const KIND_CATALOG: Readonly<Record<string, { commands: readonly string[]; events: readonly string[]; metrics: readonly string[] }>> = Object.freeze({
  access_gate: {
    commands: ['open', 'close', 'lock', 'unlock', 'hold_open', 'release'],
    events: ['access.granted', 'access.denied', 'door.opened', 'door.closed', 'door.forced', 'door.held_open'],
    metrics: [],
  },
  car_barrier: {
    commands: ['raise', 'lower', 'hold_raised', 'release'],
    events: ['vehicle.arrived', 'barrier.raised', 'barrier.lowered', 'vehicle.passed'],
    metrics: [],
  },
  fire_panel: {
    commands: ['reset'],
    events: ['fire.alarm', 'fire.fault', 'fire.supervisory', 'fire.restore', 'fire.reset'],
    metrics: [],
  },
  wearable: {
    commands: [],
    events: ['wearable.sos', 'wearable.fall'],
    metrics: ['heart_rate', 'spo2', 'steps', 'battery', 'lat', 'lon'],
  },
  env_sensor: {
    commands: [],
    events: ['env.water_leak', 'env.smoke'],
    metrics: ['temperature', 'humidity', 'pm25'],
  },
});
