/**
 * HTTP authentication for camera snapshot URIs. Most cameras answer the snapshot URI with a Digest
 * challenge (RFC 7616, MD5 with qop=auth); some take Basic. The first request goes without credentials so
 * the password is never sent in clear to a camera that would have accepted Digest.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  scheme: 'basic' | 'digest';
  params: Record<string, string>;
}

/** Picks the strongest challenge offered (Digest over Basic); undefined when none is usable. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const digest = /Digest\s+(.*)/i.exec(header);
  if (digest?.[1]) {
    const params: Record<string, string> = {};
    for (const m of digest[1].matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) {
      if (m[1]) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
    }
    return { scheme: 'digest', params };
  }
  return /^\s*Basic\b/i.test(header) ? { scheme: 'basic', params: {} } : undefined;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The Authorization header answering `challenge` for a GET of `uri`. */
export function authorization(challenge: Challenge, user: string, password: string, method: string, uri: string): string {
  if (challenge.scheme === 'basic') return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const { realm = '', nonce = '', opaque, qop } = challenge.params;
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const parts = [`username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, 'algorithm=MD5'];
  if (qop && qop.split(',').map((q) => q.trim()).includes('auth')) {
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    parts.push('qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`, `response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`);
  } else {
    // RFC 2069 form, for old cameras that offer no qop.
    parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
  return `Digest ${parts.join(', ')}`;
}
