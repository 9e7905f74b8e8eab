/**
 * A device's login (MQTT CONNECT) through the pre-authentication bounds of auth-gate.ts: the source's
 * connect rate, then the cheap check (cached verifier, unknown id), then, only when needed, a queued scrypt
 * hash. Every refusal is dead-lettered with its reason and answers the CONNACK code MQTT 3.1.1 has for it.
 */
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import type { AuthGate, GateOutcome } from './auth-gate.js';
import type { CredentialStore } from './credentials.js';
import type { DeadLetterLog } from './dead-letter.js';

export const CONNACK_IDENTIFIER_REJECTED = 2;
export const CONNACK_SERVER_UNAVAILABLE = 3;
export const CONNACK_BAD_CREDENTIALS = 4;

/** The error Aedes turns into a CONNACK with this return code. */
export function authError(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

export interface LoginDeps {
  gate: AuthGate;
  credentials: CredentialStore;
  deadLetters: DeadLetterLog;
  /** Life-safety devices, whose hash goes first. */
  priority?: ((deviceId: string) => boolean) | undefined;
}

/** Resolves to the device id when the login is good; throws an authError otherwise. */
export async function loginDevice(client: Client, username: string | undefined, password: Buffer | undefined, deps: LoginDeps): Promise<string> {
  const { gate, credentials, deadLetters } = deps;
  const id = username ?? '';
  const refused = (reason: string, detail: string, message: string, code: number): Error => {
    deadLetters.record({ reason, detail, device: id.slice(0, 64), clientId: client.id });
    return authError(message, code);
  };
  const source = (client.conn as Partial<Socket>).remoteAddress ?? 'unknown';
  if (!gate.admitSource(source)) throw refused('ERR_CONNECT_RATE', `source ${source} over its connect rate`, 'server unavailable', CONNACK_SERVER_UNAVAILABLE);
  const quick = credentials.quickCheck(id, password);
  let outcome: GateOutcome;
  if (quick === 'ok') outcome = 'ok';
  else if (quick === 'needs-hash') {
    outcome = await gate.verify(() => credentials.verify(id, password), {
      urgent: deps.priority?.(id) ?? false,
      alive: () => !client.closed && !client.conn.destroyed,
    });
  } else {
    // Unknown id, or a wrong password caught by the cached verifier: no hash, but no faster answer either.
    await gate.uniformDelay();
    outcome = 'refused';
  }
  if (outcome === 'busy') throw refused('ERR_AUTH_BUSY', 'too many connections waiting for authentication', 'server unavailable', CONNACK_SERVER_UNAVAILABLE);
  if (outcome === 'gone') throw authError('connection closed before authentication', CONNACK_SERVER_UNAVAILABLE);
  if (outcome === 'refused') throw refused('ERR_AUTH', 'unknown device or wrong password', 'bad user name or password', CONNACK_BAD_CREDENTIALS);
  // One session per device: the client id is the device id, so a second connection takes the session
  // over (MQTT-3.1.4-2) instead of one device impersonating another's session.
  if (client.id !== id) {
    deadLetters.record({ reason: 'ERR_AUTH_CLIENT_ID', detail: `client id must equal device id "${id}"`, device: id, clientId: client.id });
    throw authError('identifier rejected', CONNACK_IDENTIFIER_REJECTED);
  }
  return id;
}
