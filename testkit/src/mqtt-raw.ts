/**
 * Hand-made MQTT 3.1.1 CONNECTs on a raw socket, the way a broken or hostile client sends them: no client
 * library in the way, so a test can announce any packet size, drop the socket early, or pick the loopback
 * source address (127.0.0.2… are all the local machine on Linux).
 */
import { connect as tcpConnect, type Socket } from 'node:net';

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** The MQTT remaining-length encoding (§2.2.3). */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** A complete CONNECT (clean session, user name + password, keepalive 60 s). */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60])]);
  const payload = Buffer.concat([str(clientId), str(username), str(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export function openSocket(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Sends one CONNECT and resolves to the CONNACK return code (0 accepted, 3 unavailable, 4 bad credentials…),
 * or 'closed' when the broker closed the socket without one. The socket is closed afterwards.
 */
export async function rawConnect(port: number, id: string, password: string, o: { localAddress?: string; timeoutMs?: number } = {}): Promise<number | 'closed'> {
  const s = await openSocket(port, o.localAddress);
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (r: number | 'closed'): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('closed'), o.timeoutMs ?? 30_000);
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      // CONNACK: 0x20 0x02 flags code
      if (got.length >= 4 && got[0] === 0x20) done(got[3]!);
    });
    s.on('error', () => done('closed'));
    s.on('close', () => done('closed'));
    s.write(connectPacket(id, id, password));
  });
}
