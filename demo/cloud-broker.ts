/**
 * The cloud-side broker for the one-machine start: Aedes in process on 127.0.0.1. Aedes speaks MQTT 3.1.1,
 * so the ingest subscribes without a shared group here (one ingest); a real deployment points MQTT_URL at an
 * MQTT 5 broker (Mosquitto, EMQX) and runs several ingest instances in a share group.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export class CloudBroker {
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private boundPort = 0;

  constructor(private readonly opts: { host?: string; port?: number } = {}) {}

  get url(): string {
    return `mqtt://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker();
    // noDelay: without it Nagle and delayed ACKs add ~40 ms to every edge → cloud → ack round trip.
    const server = createServer({ noDelay: true }, aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.aedes = aedes;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = null;
    this.aedes = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }
}
