import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.js';
import { Command } from './messages.js';
import { ENVELOPE_VERSION } from './envelope.js';

/**
 * Messages from the cloud to one edge, on `edges/<edge>/down`.
 *
 * `ack` is the cloud's end-to-end receipt: every uplink record with seq ≤ upTo is committed to the database.
 * The edge's outbox advances only on this (never on the broker's PUBACK, which proves only that the
 * broker holds the batch), and resends from upTo + 1 when no ack comes (go-back-N).
 */
export const DownMessage = Type.Union(
  [
    Type.Object({ v: Type.Literal(ENVELOPE_VERSION), type: Type.Literal('ack'), edge: Id, upTo: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    Type.Object({ v: Type.Literal(ENVELOPE_VERSION), type: Type.Literal('command'), command: Command }, { additionalProperties: false }),
  ],
  { $id: 'DownMessage' },
);
export type DownMessage = Static<typeof DownMessage>;
