/**
 * The cloud-side broker for the one-machine start: Aedes in process on 127.0.0.1. Aedes speaks MQTT 3.1.1,
 * so the ingest subscribes without a shared group here (one ingest); a real deployment points MQTT_URL at an
 * MQTT 5 broker (Mosquitto, EMQX) and runs several ingest instances in a share group.
 *
 * It holds the same trust rules as the deployment's Mosquitto (issue 12, item 2; cloud-ingest broker-acl):
 * no anonymous login; each edge logs in with its own id and secret (checked against the cloud's edge
 * directory) and may publish only its own uplink and status and subscribe only to its own down topic; only
 * the ingest's login may publish on down topics. Every refusal is recorded through `onRefused`.
 */
import { createServer, type Server } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { INGEST_PRINCIPAL, mayPublish, maySubscribe, type BrokerPrincipal, type EdgeIdentity } from '@safe-community/cloud-ingest';

/** What the broker checks edge logins against (the ingest's EdgeDirectory). */
export interface EdgeAuthenticator {
  authenticate(edge: string, secret: string): Promise<EdgeIdentity | null>;
}

export interface BrokerRefusal {
  code: 'ERR_BROKER_AUTH' | 'ERR_BROKER_ACL_PUBLISH' | 'ERR_BROKER_ACL_SUBSCRIBE';
  principal: string | null;
  clientId: string;
  topic?: string;
  detail: string;
}

export interface CloudBrokerOptions {
  host?: string;
  port?: number;
  edges: EdgeAuthenticator;
  /** Called for every refused login, publish or subscription (the demo writes them to dead_letters). */
  onRefused?: (refusal: BrokerRefusal) => void;
}

const CONNACK_BAD_CREDENTIALS = 4;

function authError(message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: CONNACK_BAD_CREDENTIALS });
}

export class CloudBroker {
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private boundPort = 0;
  private readonly principals = new WeakMap<Client, BrokerPrincipal>();
  /** The ingest's password, made at start; it never leaves this process. */
  readonly ingestPassword = randomBytes(24).toString('base64url');

  constructor(private readonly opts: CloudBrokerOptions) {}

  /** The broker's address, without credentials: each client adds its own. */
  get url(): string {
    return `mqtt://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** The ingest's URL, with its login. */
  get ingestUrl(): string {
    return `mqtt://${INGEST_PRINCIPAL}:${this.ingestPassword}@${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(() => done(null, true), (err: Error & { returnCode: number }) => done(err, false));
      },
      authorizePublish: (client, packet, done) => done(this.authorizePublish(client, packet)),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
    });
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

  private refuse(r: BrokerRefusal): void {
    try {
      this.opts.onRefused?.(r);
    } catch {
      // A failing recorder must not take the broker down; the refusal itself stands.
    }
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const user = username ?? '';
    const secret = password ?? Buffer.alloc(0);
    if (user === INGEST_PRINCIPAL) {
      const want = Buffer.from(this.ingestPassword);
      if (secret.length === want.length && timingSafeEqual(secret, want)) {
        this.principals.set(client, { kind: 'ingest' });
        return;
      }
    } else if (user && secret.length > 0) {
      const who = await this.opts.edges.authenticate(user, secret.toString('utf8')).catch(() => null);
      if (who) {
        this.principals.set(client, { kind: 'edge', edge: who.edge });
        return;
      }
    }
    this.refuse({ code: 'ERR_BROKER_AUTH', principal: user ? user.slice(0, 64) : null, clientId: client.id, detail: user ? 'unknown login or wrong secret' : 'anonymous login' });
    throw authError('bad user name or password');
  }

  private authorizePublish(client: Client | null, packet: PublishPacket): Error | null {
    // A will of a client from an earlier run has no client; nothing here is allowed without a principal.
    const who = client ? this.principals.get(client) : undefined;
    if (who && mayPublish(who, packet.topic)) return null;
    this.refuse({
      code: 'ERR_BROKER_ACL_PUBLISH', principal: who ? (who.kind === 'edge' ? who.edge : INGEST_PRINCIPAL) : null,
      clientId: client?.id ?? '', topic: packet.topic.slice(0, 256), detail: 'publish outside the principal\'s topics',
    });
    // An error closes the connection (MQTT-3.3.5-2): a client that breaks the rules is hostile or broken.
    return new Error(`not allowed to publish to ${packet.topic}`);
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const who = this.principals.get(client);
    if (who && maySubscribe(who, sub.topic)) return sub;
    this.refuse({
      code: 'ERR_BROKER_ACL_SUBSCRIBE', principal: who ? (who.kind === 'edge' ? who.edge : INGEST_PRINCIPAL) : null,
      clientId: client.id, topic: sub.topic.slice(0, 256), detail: 'subscription outside the principal\'s topics',
    });
    // null: SUBACK 0x80 (failure) for this filter, the connection stays.
    return null;
  }
}
