/**
 * The SOAP 1.2 plumbing of the simulated camera: reading the operation and its arguments out of a request,
 * checking the WS-Security UsernameToken, and writing envelopes and faults. A simulator only needs to read
 * the few flat elements ONVIF requests carry, so a tolerant element scan stands in for a full XML parser.
 */
import { createHash } from 'node:crypto';

/** Namespace prefixes used in every answer (ONVIF Core §5.3 lists them). */
export const NS: Readonly<Record<string, string>> = Object.freeze({
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa5: 'http://www.w3.org/2005/08/addressing',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  tns1: 'http://www.onvif.org/ver10/topics',
  ter: 'http://www.onvif.org/ver10/error',
});

const NS_DECL = Object.entries(NS).map(([p, uri]) => `xmlns:${p}="${uri}"`).join(' ');

/** The local name of the first element inside the SOAP Body: the operation asked for. */
export function operationOf(xml: string): string | undefined {
  const m = /<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)/.exec(xml);
  return m?.[1];
}

/** Text of the first element with this local name (any prefix), or undefined. */
export function textOf(xml: string, localName: string): string | undefined {
  const re = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`);
  const m = re.exec(xml);
  return m?.[1]?.trim();
}

/** Attribute value of the first element with this local name. */
export function attrOf(xml: string, localName: string, attr: string): string | undefined {
  const el = new RegExp(`<(?:[\\w.-]+:)?${localName}\\s([^>]*)>`).exec(xml);
  if (!el?.[1]) return undefined;
  const a = new RegExp(`(?:^|\\s)${attr}="([^"]*)"`).exec(el[1]);
  return a?.[1];
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NS_DECL}><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** A SOAP 1.2 fault; `subcode` is the ONVIF error subcode (ter:NotAuthorized, ter:InvalidArgVal…). */
export function fault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  // The Text element carries xml:lang: clients read the reason from its text node next to the attribute.
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${escapeXml(reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string };

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Checks a WS-Security UsernameToken (OASIS UsernameToken Profile 1.0 §3.1):
 * PasswordDigest = Base64(SHA-1(nonce bytes + Created + password)). Created must lie within `skewMs` of
 * the camera clock and a nonce is accepted once, as the profile recommends against replay.
 */
export class UsernameTokenVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly creds: Credentials,
    private readonly now: () => number,
    private readonly skewMs = 5 * 60_000,
  ) {}

  verify(xml: string): AuthResult {
    const user = textOf(xml, 'Username');
    const password = textOf(xml, 'Password');
    if (user === undefined || password === undefined) return { ok: false, reason: 'no UsernameToken' };
    if (user !== this.creds.username) return { ok: false, reason: 'unknown user' };
    const type = attrOf(xml, 'Password', 'Type') ?? '';
    if (type.endsWith('#PasswordText')) {
      return password === this.creds.password ? { ok: true, user } : { ok: false, reason: 'wrong password' };
    }
    const nonce = textOf(xml, 'Nonce');
    const created = textOf(xml, 'Created');
    if (!nonce || !created) return { ok: false, reason: 'digest without nonce or created' };
    const createdAt = Date.parse(created);
    if (!Number.isFinite(createdAt) || Math.abs(createdAt - this.now()) > this.skewMs) {
      return { ok: false, reason: 'created time outside the allowed skew' };
    }
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(this.creds.password, 'utf8')]))
      .digest('base64');
    if (expected !== password) return { ok: false, reason: 'wrong password' };
    const key = `${nonce}|${created}`;
    if (this.seen.has(key)) return { ok: false, reason: 'nonce replayed' };
    this.remember(key);
    return { ok: true, user };
  }

  private remember(key: string): void {
    const cutoff = this.now() - 2 * this.skewMs;
    if (this.seen.size > 1000) {
      for (const [k, at] of this.seen) if (at < cutoff) this.seen.delete(k);
    }
    this.seen.set(key, this.now());
  }
}

/** Parses an xs:duration such as PT1M or PT10.5S into milliseconds (days and smaller only). */
export function durationMs(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m) return fallback;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}
