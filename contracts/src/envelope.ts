import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.js';
import { Event, Telemetry, CommandResult, DeviceStatus, Alarm, LinkageExecution } from './messages.js';
import { TelemetrySeries, expandSeries } from './series.js';

/**
 * Version of the edge↔cloud down messages, and of the first envelope. The cloud rejects versions it does
 * not know, with a reason; it accepts envelopes of version 1 and of version 2 (ENVELOPE_V2, below).
 */
export const ENVELOPE_VERSION = 1;
/** The envelope with a columnar telemetry block (series.ts); what the edge sends. */
export const ENVELOPE_V2 = 2;

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

/**
 * Version 2: the same envelope, with the telemetry readings in a columnar block (`series`) instead of one
 * message each. Records of other types, and any reading the edge could not put in the block, stay in
 * `messages`. Together the two hold at most 10,000 records; seqs are unique across both.
 */
export const EnvelopeV2 = Type.Object(
  {
    ...Envelope.properties,
    v: Type.Literal(ENVELOPE_V2),
    messages: Type.Array(UplinkMessage, { maxItems: 10_000 }),
    series: Type.Optional(TelemetrySeries),
  },
  { additionalProperties: false, $id: 'EnvelopeV2' },
);
export type EnvelopeV2 = Static<typeof EnvelopeV2>;

/** Any envelope the cloud accepts. */
export const AnyEnvelope = Type.Union([Envelope, EnvelopeV2], { $id: 'AnyEnvelope' });
export type AnyEnvelope = Static<typeof AnyEnvelope>;

/** Every record of an envelope of either version, as messages in seq order (a v2 block's readings expanded). */
export function envelopeRecords(env: AnyEnvelope): UplinkMessage[] {
  if (env.v !== ENVELOPE_V2 || !env.series) return env.messages;
  const rows = expandSeries(env.series, env.site, env.edge).flatMap((r) => (r.ok ? [r.msg as UplinkMessage] : []));
  return [...env.messages, ...rows].sort((a, b) => a.seq - b.seq);
}
