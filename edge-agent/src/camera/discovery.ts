/**
 * WS-Discovery probe for ONVIF cameras (ONVIF Core §7.3). The installer configures where probes go: the
 * multicast group on one interface address (production), or a unicast address such as 127.0.0.1 (tests,
 * or a camera on a routed subnet). The onvif package's Discovery always multicasts and picks the interface
 * by name only, so the probe is sent here with dgram and the ProbeMatch answers are read directly.
 */
import { createSocket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT } from '@safe-community/contracts';
import { CodedError } from '@safe-community/runtime';
import { CAMERA_DISCOVERY } from './errors.js';

export { WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT };

export interface ProbeOptions {
  /** Where to send the probe: the multicast group (default) or a unicast address. */
  target?: string;
  /** Default 3702. */
  port?: number;
  /** Local interface address to send from (and, for multicast, the outgoing interface). Default 0.0.0.0. */
  interfaceAddress?: string;
  /** How long to collect answers; default 3000 ms. */
  timeoutMs?: number;
  /** Multicast TTL; default 1 so probes never cross a router. */
  ttl?: number;
}

export interface DiscoveredCamera {
  /** Endpoint reference, stable per device (urn:uuid:…). */
  urn: string;
  /** Device service URLs. */
  xaddrs: string[];
  scopes: string[];
  types: string[];
  /** Name and hardware from the onvif:// scopes, when present. */
  name?: string;
  hardware?: string;
  /** Address the answer came from. */
  from: string;
}

export async function probe(opts: ProbeOptions = {}): Promise<DiscoveredCamera[]> {
  const target = opts.target ?? WS_DISCOVERY_GROUP;
  const multicast = isMulticast(target);
  const messageId = `urn:uuid:${randomUUID()}`;
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const found = new Map<string, DiscoveredCamera>();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.interfaceAddress ?? '0.0.0.0', () => resolve());
    });
    if (multicast) {
      socket.setMulticastTTL(opts.ttl ?? 1);
      if (opts.interfaceAddress) socket.setMulticastInterface(opts.interfaceAddress);
    }
    socket.on('message', (msg, rinfo) => {
      // One entry per device: endpoint reference and device service address together, since cloned
      // firmwares are known to share one UUID (issue #14: two cameras collapsed into one entry).
      for (const cam of parseProbeMatches(msg.toString('utf8'), messageId, rinfo.address)) {
        const key = `${cam.urn}|${cam.xaddrs.join(' ')}`;
        if (!found.has(key)) found.set(key, cam);
      }
    });
    const request = probeMessage(messageId);
    await new Promise<void>((resolve, reject) => socket.send(request, opts.port ?? WS_DISCOVERY_PORT, target, (err) => (err ? reject(err) : resolve())));
    await new Promise((r) => setTimeout(r, opts.timeoutMs ?? 3000));
  } catch (err) {
    throw new CodedError(CAMERA_DISCOVERY, `WS-Discovery probe to ${target} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    socket.close();
  }
  return [...found.values()];
}

function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>' +
    `<a:MessageID>${messageId}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/** Reads a ProbeMatches answer: every ProbeMatch in it; answers to other probes (RelatesTo differs) are ignored. */
export function parseProbeMatches(xml: string, messageId: string, from: string): DiscoveredCamera[] {
  const relatesTo = text(xml, 'RelatesTo');
  if (relatesTo !== undefined && relatesTo !== messageId) return [];
  const out: DiscoveredCamera[] = [];
  for (const m of xml.matchAll(/<(?:[\w.-]+:)?ProbeMatch(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?ProbeMatch>/g)) {
    const cam = readMatch(m[1] ?? '', from);
    if (cam) out.push(cam);
  }
  return out;
}

/** The first device of a ProbeMatches answer (see parseProbeMatches). */
export function parseProbeMatch(xml: string, messageId: string, from: string): DiscoveredCamera | undefined {
  return parseProbeMatches(xml, messageId, from)[0];
}

function readMatch(match: string, from: string): DiscoveredCamera | undefined {
  // The device's address is the one inside EndpointReference: headers may carry other Address elements
  // (ReplyTo with the WS-Addressing anonymous role), which are no device's identity.
  const epr = /<(?:[\w.-]+:)?EndpointReference(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?EndpointReference>/.exec(match)?.[1] ?? '';
  const urn = text(epr, 'Address');
  const xaddrs = words(text(match, 'XAddrs'));
  if (!urn || xaddrs.length === 0) return undefined;
  const scopes = words(text(match, 'Scopes'));
  const scope = (kind: string) => {
    const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${kind}/`));
    return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${kind}/`.length)) : undefined;
  };
  const name = scope('name');
  const hardware = scope('hardware');
  return { urn, xaddrs, scopes, types: words(text(match, 'Types')), from, ...(name ? { name } : {}), ...(hardware ? { hardware } : {}) };
}

function text(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${local}>`).exec(xml);
  return m?.[1]?.trim();
}

function words(s: string | undefined): string[] {
  return s ? s.split(/\s+/).filter(Boolean) : [];
}

function isMulticast(addr: string): boolean {
  const first = Number(addr.split('.')[0]);
  return first >= 224 && first <= 239;
}
