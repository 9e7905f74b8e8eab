/**
 * The ingest's side of the edge↔cloud trust model (issue 12): what an edge sends is placed under the
 * identity it proved (its HTTP login, or the cloud broker login that the broker's ACL ties to its topic),
 * and what the cloud sends an edge is signed with that edge's own key.
 */
import { randomBytes } from 'node:crypto';
import { parseEdgeTopic, signDown } from '@safe-community/contracts';
import { systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { EdgeDirectory, EdgeIdentity } from './auth/index.js';
import { clip } from './prepare.js';
import type { DeadLetterRecord, IngestBatch } from './store/types.js';

/**
 * The dead letter for a batch that does not belong to `identity` (null: the edge is not registered, refused
 * when `required`), or null when the batch may be written. The envelope's site must be the identity's: a
 * record's own site is checked against the envelope's in prepare.ts, so the two checks pin every record.
 */
export function originRefusal(batch: IngestBatch, identity: EdgeIdentity | null, required: boolean, payload: string | (() => string)): DeadLetterRecord | null {
  // The payload text is made only for a refusal: for an accepted envelope of 10,000 records, decoding and
  // clipping it cost more than its validation (issue #19).
  const base = () => ({ source: batch.source, edge: batch.edge, seq: null, payload: clip(typeof payload === 'function' ? payload() : payload) });
  if (!identity) {
    return required ? { ...base(), code: 'ERR_EDGE_UNKNOWN', reason: `edge ${batch.edge} has no registered identity (provision it with its own credential)` } : null;
  }
  if (identity.edge !== batch.edge) {
    return { ...base(), code: 'ERR_EDGE_MISMATCH', reason: `envelope of edge ${batch.edge} sent with the identity of edge ${identity.edge}` };
  }
  if (identity.site !== batch.site) {
    return { ...base(), code: 'ERR_SITE_MISMATCH', reason: `edge ${identity.edge} belongs to site ${identity.site}; its envelope claims site ${batch.site}` };
  }
  return null;
}

export interface DownSignerOptions {
  edges: EdgeDirectory;
  clock?: Clock;
  logger: Logger;
}

/**
 * Wraps each down message for an edge in a SignedDown (contracts/down-auth.ts). An edge with no key (not
 * registered, or registered before keys existed) gets the message as it is: only an edge without a secret,
 * a development setup, accepts that; an edge with a secret refuses it.
 */
export class DownSigner {
  private readonly clock: Clock;
  private readonly warned = new Set<string>();

  constructor(private readonly opts: DownSignerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The payload to publish on `topic`: signed when it is an edge's down topic and the edge has a key. */
  async payloadFor(topic: string, body: string): Promise<string> {
    const parsed = parseEdgeTopic(topic);
    if (!parsed || parsed.channel !== 'down') return body;
    const keys = await this.opts.edges.downKeys(parsed.edge);
    if (keys.length === 0) {
      if (!this.warned.has(parsed.edge) && this.warned.size < 1000) {
        this.warned.add(parsed.edge);
        this.opts.logger.warn({ edge: parsed.edge }, 'edge has no down key: its down messages go unsigned (an edge with a secret refuses them)');
      }
      return body;
    }
    return signDown(keys, parsed.edge, body, this.clock.now(), randomBytes(12).toString('base64url'));
  }
}

/**
 * Records refusals (failed logins, refused publishes) as dead letters, at most `perSecond` a second; the rest
 * are only counted in the log, so a client hammering a door cannot turn each knock into a database write.
 */
export function boundedDeadLetters(write: (r: DeadLetterRecord) => Promise<void>, logger: Logger, perSecond = 20): (r: DeadLetterRecord) => void {
  let second = 0;
  let inSecond = 0;
  let dropped = 0;
  return (r) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      if (dropped > 0) logger.warn({ dropped }, `refusals not recorded (over ${perSecond} a second)`);
      second = now;
      inSecond = 0;
      dropped = 0;
    }
    if (++inSecond > perSecond) {
      dropped++;
      return;
    }
    write(r).catch((err: Error) => logger.warn({ err: err.message }, 'refusal not recorded'));
  };
}
