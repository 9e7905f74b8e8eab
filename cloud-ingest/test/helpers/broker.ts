/** An in-process Aedes broker (MQTT 3.1.1) on an ephemeral loopback port, for tests. */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { freePort } from '@safe-community/testkit';

export interface TestBroker {
  url: string;
  broker: Aedes;
  close(): Promise<void>;
}

/** @param port reuse a port (a broker restarted on the same address); a free one when absent */
export async function startAedes(port?: number): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  // noDelay: without it Nagle and delayed ACKs add ~40 ms to every ack round trip.
  const server: Server = createServer({ noDelay: true }, broker.handle as (s: Socket) => void);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listenPort = port ?? (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    url: `mqtt://127.0.0.1:${listenPort}`,
    broker,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
