/**
 * HTTP authentication of the simulated camera's snapshot URI: Digest (RFC 7616, MD5, qop=auth) as most
 * cameras do, or Basic. Nonces are issued by the camera and expire, so a stale or invented nonce fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Credentials } from './soap.js';

const REALM = 'SimCam';
const NONCE_TTL_MS = 5 * 60_000;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export class HttpAuthenticator {
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly scheme: 'basic' | 'digest',
    private readonly creds: Credentials,
    private readonly now: () => number,
  ) {}

  /** The WWW-Authenticate header for a 401. */
  challenge(): string {
    if (this.scheme === 'basic') return `Basic realm="${REALM}"`;
    this.sweep();
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, this.now());
    return `Digest realm="${REALM}", qop="auth", nonce="${nonce}", opaque="${md5(REALM)}", algorithm=MD5`;
  }

  verify(header: string | undefined, method: string): boolean {
    if (!header) return false;
    if (this.scheme === 'basic') {
      return header === 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64');
    }
    const m = /^Digest\s+(.*)$/i.exec(header);
    if (!m?.[1]) return false;
    const p: Record<string, string> = {};
    for (const kv of m[1].matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) if (kv[1]) p[kv[1].toLowerCase()] = kv[2] ?? kv[3] ?? '';
    const issued = p.nonce ? this.nonces.get(p.nonce) : undefined;
    if (issued === undefined || this.now() - issued > NONCE_TTL_MS) return false;
    if (p.username !== this.creds.username || p.realm !== REALM || p.qop !== 'auth' || !p.uri) return false;
    const ha1 = md5(`${this.creds.username}:${REALM}:${this.creds.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    return p.response === md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
  }

  private sweep(): void {
    const cutoff = this.now() - NONCE_TTL_MS;
    for (const [n, at] of this.nonces) if (at < cutoff) this.nonces.delete(n);
  }
}
