import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.js';
import { Event, Telemetry, CommandResult, DeviceStatus, Alarm, LinkageExecution } from './messages.js';

/** Version of the edge↔cloud envelope. The cloud rejects versions it does not know, with a reason. */
export const ENVELOPE_VERSION = 1;

const Seq = Type.Integer({ minimum: 1, description: 'per-edge monotonic sequence, assigned by the outbox' });

/** One outbox record: its sequence makes the cloud's write idempotent by (edge, seq). */
export const UplinkMessage = Type.Union(
  [
    Type.Object({ seq: Seq, type: Type.Literal('event'), data: Event }, { additionalProperties: false }),
    Type.Object({ seq: Seq, type: Type.Literal('telemetry'), data: Telemetry }, { additionalProperties: false }),
    Type.Object({ seq: Seq, type: Type.Literal('status'), data: DeviceStatus }, { additionalProperties: false }),
    Type.Object({ seq: Seq, type: Type.Literal('command_result'), data: CommandResult }, { additionalProperties: false }),
    Type.Object({ seq: Seq, type: Type.Literal('alarm'), data: Alarm }, { additionalProperties: false }),
    Type.Object({ seq: Seq, type: Type.Literal('linkage'), data: LinkageExecution }, { additionalProperties: false }),
  ],
  { $id: 'UplinkMessage' },
);
export type UplinkMessage = Static<typeof UplinkMessage>;
export type UplinkType = UplinkMessage['type'];

/** A batch of outbox records from one edge, in sequence order. */
export const Envelope = Type.Object(
  {
    v: Type.Literal(ENVELOPE_VERSION),
    edge: Id,
    site: Id,
    sentAt: Type.String(),
    /**
     * The outbox's epoch (a random id made with its folder). Absent from older edges. A new epoch restarts
     * at seq 1: the cloud continues its rows after the old epoch's instead of skipping them as resends.
     */
    epoch: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' })),
    messages: Type.Array(UplinkMessage, { minItems: 1, maxItems: 10_000 }),
  },
  { additionalProperties: false, $id: 'Envelope' },
);
export type Envelope = Static<typeof Envelope>;
