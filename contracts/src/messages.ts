import { Type, type Static } from '@sinclair/typebox';
import { Id, Uuid, Timestamp, Severity, Tags, DeviceKind } from './common.js';

/** A canonical event: something happened at a device (fire alarm, door forced, SOS…). */
export const Event = Type.Object(
  {
    id: Uuid,
    site: Id,
    edge: Id,
    device: Id,
    kind: Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$', maxLength: 64, description: 'dotted kind, e.g. fire.alarm' }),
    severity: Severity,
    deviceTime: Type.Optional(Timestamp),
    edgeTime: Timestamp,
    tags: Type.Optional(Tags),
    payload: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false, $id: 'Event' },
);
export type Event = Static<typeof Event>;

/** One time-series point. */
export const Telemetry = Type.Object(
  {
    site: Id,
    edge: Id,
    device: Id,
    metric: Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 }),
    value: Type.Number(),
    unit: Type.Optional(Type.String({ maxLength: 16 })),
    time: Timestamp,
  },
  { additionalProperties: false, $id: 'Telemetry' },
);
export type Telemetry = Static<typeof Telemetry>;

/** A command to one device: the linkage engine, the cloud API or an operator asks a device to act. */
export const Command = Type.Object(
  {
    id: Uuid,
    site: Id,
    edge: Id,
    device: Id,
    action: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 32, description: 'e.g. hold_open, raise, goto_preset' }),
    params: Type.Record(Type.String(), Type.Unknown()),
    issuedAt: Timestamp,
    issuedBy: Type.String({ minLength: 1, maxLength: 128, description: 'linkage:<rule>, user:<id> or cloud:<rule>' }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
  },
  { additionalProperties: false, $id: 'Command' },
);
export type Command = Static<typeof Command>;

export const CommandStatus = Type.Union([
  Type.Literal('confirmed'),
  Type.Literal('rejected'),
  Type.Literal('timeout'),
  Type.Literal('failed'),
]);
export type CommandStatus = Static<typeof CommandStatus>;

/** The outcome of a command, confirmed by the device's read-back or given up after retries. */
export const CommandResult = Type.Object(
  {
    commandId: Uuid,
    site: Id,
    edge: Id,
    device: Id,
    action: Type.String({ maxLength: 32 }),
    status: CommandStatus,
    attempts: Type.Integer({ minimum: 1 }),
    latencyMs: Type.Number({ minimum: 0, description: 'first send to confirmation (or to giving up)' }),
    at: Timestamp,
    detail: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false, $id: 'CommandResult' },
);
export type CommandResult = Static<typeof CommandResult>;

/** Online/offline and last known state of a device. */
export const DeviceStatus = Type.Object(
  {
    site: Id,
    edge: Id,
    device: Id,
    kind: Type.Optional(DeviceKind),
    online: Type.Boolean(),
    at: Timestamp,
    state: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false, $id: 'DeviceStatus' },
);
export type DeviceStatus = Static<typeof DeviceStatus>;

export const AlarmState = Type.Union([
  Type.Literal('open'),
  Type.Literal('acknowledged'),
  Type.Literal('dispatched'),
  Type.Literal('resolved'),
  Type.Literal('false_alarm'),
]);
export type AlarmState = Static<typeof AlarmState>;

/** An alarm needs a person: it has a lifecycle, and repeats of the same (device, type) count up instead of duplicating. */
export const Alarm = Type.Object(
  {
    id: Uuid,
    site: Id,
    edge: Type.Optional(Id),
    device: Id,
    type: Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 }),
    severity: Severity,
    state: AlarmState,
    raisedAt: Timestamp,
    count: Type.Integer({ minimum: 1 }),
    message: Type.String({ maxLength: 512 }),
    sourceEventId: Type.Optional(Uuid),
    tags: Type.Optional(Tags),
  },
  { additionalProperties: false, $id: 'Alarm' },
);
export type Alarm = Static<typeof Alarm>;

/** One action of a linkage execution with its timing, so every automatic act can be audited. */
export const LinkageAction = Type.Object(
  {
    device: Id,
    action: Type.String({ maxLength: 32 }),
    commandId: Uuid,
    status: CommandStatus,
    attempts: Type.Integer({ minimum: 1 }),
    sentAfterMs: Type.Number({ minimum: 0, description: 'trigger received → first command published' }),
    confirmedAfterMs: Type.Optional(Type.Number({ minimum: 0, description: 'trigger received → read-back' })),
  },
  { additionalProperties: false },
);
export type LinkageAction = Static<typeof LinkageAction>;

export const LinkageExecution = Type.Object(
  {
    id: Uuid,
    site: Id,
    edge: Id,
    rule: Id,
    triggerEventId: Uuid,
    startedAt: Timestamp,
    finishedAt: Timestamp,
    status: Type.Union([Type.Literal('confirmed'), Type.Literal('partial'), Type.Literal('failed')]),
    actions: Type.Array(LinkageAction),
  },
  { additionalProperties: false, $id: 'LinkageExecution' },
);
export type LinkageExecution = Static<typeof LinkageExecution>;
