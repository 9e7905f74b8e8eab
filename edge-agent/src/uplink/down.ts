/**
 * Parsing of what the cloud sends down on `edges/<edge>/down`: validated against the contract, so a
 * malformed or foreign message is counted and logged, never acted on.
 */
import { validators, type Command } from '@safe-community/contracts';

export type DownParse =
  | { kind: 'ack'; upTo: number }
  | { kind: 'command'; command: Command }
  | { kind: 'invalid'; reason: string };

export function parseDown(payload: Buffer, edge: string): DownParse {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (!validators.down.check(value)) {
    const first = validators.down.issues(value)[0];
    return { kind: 'invalid', reason: first ? `${first.path || '/'} ${first.reason}` : 'does not match DownMessage' };
  }
  if (value.type === 'ack') {
    if (value.edge !== edge) return { kind: 'invalid', reason: `ack for edge ${value.edge}, this is ${edge}` };
    return { kind: 'ack', upTo: value.upTo };
  }
  if (value.command.edge !== edge) return { kind: 'invalid', reason: `command for edge ${value.command.edge}, this is ${edge}` };
  return { kind: 'command', command: value.command };
}
