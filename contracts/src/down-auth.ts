import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.js';
import { ENVELOPE_VERSION } from './envelope.js';

/**
 * Down messages authenticated end to end (issue 12, item 3): the cloud wraps every DownMessage for an edge
 * in a SignedDown whose MAC is made with a key derived from that edge's own secret, so a broker that is
 * misconfigured or taken over still cannot open a gate or move an edge's outbox.
 *
 * The inner message travels as text (`body`) so the edge checks the MAC over exactly the bytes the cloud
 * signed, with no JSON canonicalisation on either side. `ts` (milliseconds since the epoch, the cloud's
 * clock) and `id` (unique per message) let the edge refuse replays: it accepts a message only inside a clock
 * window and only once. `macs` holds one MAC per key the cloud holds for the edge: two while a rotated
 * secret's grace period runs, so the edge verifies whichever secret it has.
 */
export const SignedDown = Type.Object(
  {
    v: Type.Literal(ENVELOPE_VERSION),
    type: Type.Literal('signed'),
    edge: Id,
    ts: Type.Integer({ minimum: 0 }),
    id: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    body: Type.String({ maxLength: 1024 * 1024 }),
    macs: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { minItems: 1, maxItems: 2 }),
  },
  { additionalProperties: false, $id: 'SignedDown' },
);
export type SignedDown = Static<typeof SignedDown>;

/** Label of the key derivation: a down key is useless as the edge's login secret and the other way round. */
const DOWN_KEY_LABEL = 'safe-community/down-mac/v1';

/**
 * The MAC key of an edge's down messages, derived from its secret. The cloud stores this key (it must make
 * MACs) but only a hash of the secret itself, so the stored key cannot be used to log in as the edge.
 */
export function downMacKey(secret: string): string {
  return createHmac('sha256', secret).update(DOWN_KEY_LABEL).digest('hex');
}

function macOf(keyHex: string, edge: string, ts: number, id: string, body: string): string {
  // Each field is length-prefixed by its position: newline cannot appear in edge, ts or id.
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(`v1\n${edge}\n${ts}\n${id}\n`).update(body).digest('hex');
}

/** The SignedDown text for `body` (a DownMessage as JSON), with one MAC per key. */
export function signDown(keysHex: readonly string[], edge: string, body: string, ts: number, id: string): string {
  const msg: SignedDown = { v: ENVELOPE_VERSION, type: 'signed', edge, ts, id, body, macs: keysHex.map((k) => macOf(k, edge, ts, id, body)) };
  return JSON.stringify(msg);
}

/** True when one of the message's MACs was made with `keyHex` (constant-time comparison). */
export function downMacValid(keyHex: string, msg: SignedDown): boolean {
  const want = Buffer.from(macOf(keyHex, msg.edge, msg.ts, msg.id, msg.body), 'hex');
  return msg.macs.some((m) => {
    const got = Buffer.from(m, 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}
