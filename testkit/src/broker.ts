/**
 * The tests' in-process MQTT broker: Aedes (MQTT 3.1.1) on a loopback port, closable like a crash (every
 * connection dropped) and restartable on the same port for outage tests.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { freePort } from './index.js';

export interface TestBroker {
  url: string;
  port: number;
  broker: Aedes;
  /** Drops every connection and closes the broker and its listener. */
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
    port: listenPort,
    broker,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** A broker that keeps its port across stop() and start(), like one that crashes and comes back. */
export class RestartableBroker {
  port = 0;
  private running: TestBroker | undefined;

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.running = await startAedes(this.port || undefined);
    this.port = this.running.port;
  }

  /** Closes the broker and drops every connection, like a broker crash. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.close();
  }
}
