/**
 * Simulated access gate (door controller) in two dialects:
 * - `acme-json`: JSON on event/state/ack, commands `{"cid","op"}` on cmd;
 * - `keyway-delim`: comma records on up (`A,ts,G|D,method,cred,reason`, `D,ts,O|C|F|H`, `K,cid,res,door`),
 *   commands `C,cid,OP` on down.
 */
import { DialectDevice, jsonCommand, type DeviceCommand, type SimulatedDeviceOptions } from './base.js';

export type GateDialect = 'acme-json' | 'keyway-delim';
export type GateState = 'locked' | 'unlocked' | 'open' | 'closed' | 'held_open';
export type AccessMethod = 'card' | 'qr' | 'face';

const ACME_OPS: Record<string, GateState> = { OPEN: 'open', CLOSE: 'closed', LOCK: 'locked', UNLOCK: 'unlocked', HOLD_OPEN: 'held_open', RELEASE: 'locked' };
const KEYWAY_OPS: Record<string, GateState> = { OP: 'open', CL: 'closed', LK: 'locked', UL: 'unlocked', HO: 'held_open', RL: 'locked' };
const ACME_STATE: Record<GateState, string> = { locked: 'LOCKED', unlocked: 'UNLOCKED', open: 'OPEN', closed: 'CLOSED', held_open: 'HOLD_OPEN' };
const KEYWAY_STATE: Record<GateState, string> = { locked: 'L', unlocked: 'U', open: 'O', closed: 'C', held_open: 'H' };
const METHOD_CODE: Record<AccessMethod, string> = { card: 'C', qr: 'Q', face: 'F' };
const DENY_CODE: Record<string, string> = { unknown_credential: '1', expired: '2', outside_schedule: '3', anti_passback: '4' };
const epoch = (): number => Math.floor(Date.now() / 1000);

export class SimulatedGate extends DialectDevice<GateDialect> {
  state: GateState = 'locked';

  constructor(opts: SimulatedDeviceOptions & { dialect: GateDialect }) {
    super(opts, { 'acme-json': 'cmd', 'keyway-delim': 'down' });
  }

  /** A credential was presented; the controller decided. */
  async access(opts: { granted: boolean; method: AccessMethod; credential: string; reason?: keyof typeof DENY_CODE }): Promise<void> {
    if (this.dialect === 'acme-json') {
      const body: Record<string, unknown> = { evt: 'ACCESS', result: opts.granted ? 'GRANTED' : 'DENIED', method: opts.method.toUpperCase(), cred: opts.credential, ts: epoch() };
      if (!opts.granted && opts.reason) body.reason = opts.reason;
      return this.send('event', JSON.stringify(body));
    }
    const reason = opts.granted ? '0' : DENY_CODE[opts.reason ?? 'unknown_credential'] ?? '1';
    return this.send('up', ['A', epoch(), opts.granted ? 'G' : 'D', METHOD_CODE[opts.method], opts.credential, reason].join(','));
  }

  /** The door contact/sensor reported a change. */
  async door(change: 'opened' | 'closed' | 'forced' | 'held'): Promise<void> {
    if (change === 'opened' || change === 'forced') this.state = 'open';
    if (change === 'closed') this.state = 'closed';
    if (this.dialect === 'acme-json') {
      const door = { opened: 'OPEN', closed: 'CLOSED', forced: 'FORCED', held: 'HELD' }[change];
      return this.send('event', JSON.stringify({ evt: 'DOOR', door, ts: epoch() }));
    }
    const code = { opened: 'O', closed: 'C', forced: 'F', held: 'H' }[change];
    return this.send('up', ['D', epoch(), code].join(','));
  }

  /** Periodic state report (acme-json only; keyway reports state in its acks). */
  async reportState(): Promise<void> {
    if (this.dialect === 'acme-json') return this.send('state', JSON.stringify({ door: ACME_STATE[this.state] }));
  }

  protected parseCommand(payload: Buffer): DeviceCommand | null {
    const text = payload.toString('utf8');
    if (this.dialect === 'acme-json') return jsonCommand(text, 'cid', 'op');
    const [tag, cid, op] = text.split(',');
    return tag === 'C' && cid && op ? { id: cid, op } : null;
  }

  protected applyCommand(cmd: DeviceCommand): { suffix: string; payload: string } {
    const table = this.dialect === 'acme-json' ? ACME_OPS : KEYWAY_OPS;
    const next = Object.hasOwn(table, cmd.op) ? table[cmd.op] : undefined;
    if (next) this.state = next;
    if (this.dialect === 'acme-json') {
      const body: Record<string, unknown> = { cid: cmd.id, res: next ? 'OK' : 'ERR', door: ACME_STATE[this.state] };
      if (!next) body.msg = `unknown op ${cmd.op}`;
      return { suffix: 'ack', payload: JSON.stringify(body) };
    }
    return { suffix: 'up', payload: ['K', cmd.id, next ? '0' : '2', KEYWAY_STATE[this.state]].join(',') };
  }
}
