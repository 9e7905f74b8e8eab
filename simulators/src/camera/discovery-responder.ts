/**
 * WS-Discovery (2005/04) target service of the simulated camera: answers Probe messages with a ProbeMatch
 * carrying the device service address (ONVIF Core §7.3). It binds to one address: 127.0.0.1 for unicast
 * probes in tests, and only joins the multicast group when asked, so probes never leave the machine unless
 * a deployment chooses so.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import { escapeXml as x, textOf } from './soap.js';

export { WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT };

export interface DiscoveryResponderOptions {
  /** Address to bind; 127.0.0.1 keeps discovery on this machine. */
  address?: string;
  /** Default 3702; tests may pick another so parallel runs do not collide. */
  port?: number;
  /** Join 239.255.255.250 on `address`'s interface (only inside an isolated network namespace in tests). */
  multicast?: boolean;
  /** Device service URL(s) advertised as XAddrs. */
  xaddrs: () => string[];
  /** Stable endpoint reference of the device. */
  endpoint?: string;
  scopes?: string[];
  /**
   * More devices answering from the same place (each with its own ProbeMatches reply), e.g. two cameras of
   * one firmware behind the same responder in a test.
   */
  others?: () => Array<{ endpoint: string; xaddrs: string[]; scopes?: string[] }>;
  /**
   * Field quirk: the reply's header carries <a:ReplyTo><a:Address>…/role/anonymous</a:Address></a:ReplyTo>
   * before the body's EndpointReference, so "the first Address element" is not the device's.
   */
  replyToHeader?: boolean;
}

export class DiscoveryResponder {
  private socket: Socket | undefined;
  private readonly endpoint: string;
  private probes = 0;

  constructor(private readonly opts: DiscoveryResponderOptions) {
    this.endpoint = opts.endpoint ?? `urn:uuid:${randomUUID()}`;
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    const address = this.opts.address ?? '127.0.0.1';
    // A multicast listener must bind the wildcard to receive group traffic; the group is joined on `address` only.
    const bindAddr = this.opts.multicast ? '0.0.0.0' : address;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(new CodedError('SIM_DISCOVERY_BIND', `cannot bind ${bindAddr}:${this.opts.port ?? WS_DISCOVERY_PORT}`, { cause: err })));
      socket.bind(this.opts.port ?? WS_DISCOVERY_PORT, bindAddr, () => resolve());
    });
    if (this.opts.multicast) socket.addMembership(WS_DISCOVERY_GROUP, address);
    socket.on('message', (msg, rinfo) => this.onMessage(msg.toString('utf8'), rinfo.address, rinfo.port));
    this.socket = socket;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  get probeCount(): number {
    return this.probes;
  }

  get endpointReference(): string {
    return this.endpoint;
  }

  private onMessage(xml: string, host: string, port: number): void {
    if (!/<(?:[\w.-]+:)?Probe[\s>/]/.test(xml)) return;
    const types = textOf(xml, 'Types') ?? '';
    // An empty Types matches every target (WS-Discovery §5.1); otherwise only a video transmitter is answered.
    if (types && !/NetworkVideoTransmitter|Device\b/.test(types)) return;
    this.probes++;
    const relatesTo = textOf(xml, 'MessageID') ?? '';
    const scopes = this.opts.scopes ?? ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/name/SimCam'];
    const devices = [{ endpoint: this.endpoint, xaddrs: this.opts.xaddrs(), scopes }, ...(this.opts.others?.() ?? [])];
    const anonymous = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
    for (const d of devices) {
      const reply =
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>' +
        `<a:MessageID>urn:uuid:${randomUUID()}</a:MessageID><a:RelatesTo>${x(relatesTo)}</a:RelatesTo>` +
        (this.opts.replyToHeader ? `<a:ReplyTo><a:Address>${anonymous}</a:Address></a:ReplyTo>` : '') +
        `<a:To>${anonymous}</a:To>` +
        '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header><s:Body>' +
        `<d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>${x(d.endpoint)}</a:Address></a:EndpointReference>` +
        `<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>${x((d.scopes ?? scopes).join(' '))}</d:Scopes>` +
        `<d:XAddrs>${x(d.xaddrs.join(' '))}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
        '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
      // Replies are unicast to the prober (WS-Discovery §5.3), so they never reach the group.
      this.socket?.send(reply, port, host);
    }
  }
}
