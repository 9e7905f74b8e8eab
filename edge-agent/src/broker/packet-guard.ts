/**
 * Refuses an MQTT packet by its fixed header, before its body is read: Aedes's parser buffers a whole
 * packet before it looks at it, so a client that announces a 150 MiB CONNECT could make the agent hold
 * 150 MiB before authentication (issue 13: two such sockets raised the agent from 216 to 517 MiB).
 *
 * The guard only observes the bytes Aedes reads (a 'data' listener added after Aedes's 'readable' one is
 * called from inside each read(), before the parser sees the chunk); it walks the fixed headers
 * (MQTT 3.1.1 §2.2: one type byte, then a remaining length of at most four 7-bit groups) and skips the
 * bodies, so its own memory is a few counters whatever the packets hold.
 */
import type { Socket } from 'node:net';

export interface PacketGuardRefusal {
  reason: 'ERR_PACKET_TOO_LARGE' | 'ERR_PACKET_MALFORMED';
  detail: string;
}

export function guardPacketSize(socket: Socket, maxBytes: number, onRefused: (r: PacketGuardRefusal) => void): void {
  let skip = 0; // body bytes of the current packet still to pass
  let inHeader = false; // the type byte is read, the length is not complete yet
  let length = 0;
  let shift = 0;
  let lengthBytes = 0;
  let refused = false;
  const refuse = (r: PacketGuardRefusal): void => {
    if (refused) return;
    refused = true;
    onRefused(r);
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length && !refused) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      if (!inHeader) {
        inHeader = true;
        length = 0;
        shift = 0;
        lengthBytes = 0;
        i++; // the packet type byte
        continue;
      }
      const b = chunk[i++]!;
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
      lengthBytes++;
      if (b & 0x80) {
        if (lengthBytes === 4) refuse({ reason: 'ERR_PACKET_MALFORMED', detail: 'remaining length longer than four bytes' });
        continue;
      }
      inHeader = false;
      if (length + 1 + lengthBytes > maxBytes) {
        refuse({ reason: 'ERR_PACKET_TOO_LARGE', detail: `packet of ${length + 1 + lengthBytes} bytes > ${maxBytes}` });
        return;
      }
      skip = length;
    }
  });
}
