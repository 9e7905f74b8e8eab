/**
 * One RTSP control connection (RFC 2326): parses requests, keeps the session's transport and tells the
 * source when the client starts or stops playing. Interleaved frames the client sends ('$' + channel +
 * length, e.g. RTCP receiver reports over TCP) are skipped.
 */
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export type RtspClient =
  | { kind: 'tcp'; socket: Socket; channel: number }
  | { kind: 'udp'; address: string; ports: [number, number] };

export interface RtspHost {
  sdp(): string;
  serverPorts(): [number, number];
  play(client: RtspClient): void;
  stop(client: RtspClient): void;
  /** Checks the Authorization header; undefined when the source is open to anyone. */
  authorize?(header: string | undefined, method: string): { ok: true } | { ok: false; challenge: string };
}

/** Requests larger than this are refused; RTSP requests are a few hundred bytes. */
const MAX_REQUEST = 16 * 1024;
const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

interface Request {
  method: string;
  url: string;
  headers: Map<string, string>;
}

export class RtspConnection {
  private buf = Buffer.alloc(0);
  private readonly session = randomBytes(8).toString('hex');
  private client: RtspClient | undefined;
  private playing = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: RtspHost,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.teardown());
    // A client that vanishes mid-write must not take the source down with it.
    socket.on('error', () => this.teardown());
  }

  close(): void {
    this.teardown();
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        this.buf = this.buf.subarray(4 + len);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_REQUEST) this.close();
        return;
      }
      const head = this.buf.subarray(0, end).toString('latin1');
      const req = parseRequest(head);
      const bodyLen = Number(req?.headers.get('content-length') ?? 0) || 0;
      if (this.buf.length < end + 4 + bodyLen) return;
      this.buf = this.buf.subarray(end + 4 + bodyLen);
      if (!req) {
        this.reply('0', 400, 'Bad Request');
        continue;
      }
      this.handle(req);
    }
  }

  private handle(req: Request): void {
    const cseq = req.headers.get('cseq') ?? '0';
    const sessionHeader = `${this.session};timeout=60`;
    // RFC 2326 §D.1.1: everything but OPTIONS may require authorization, as on real cameras.
    if (req.method !== 'OPTIONS' && this.host.authorize) {
      const auth = this.host.authorize(req.headers.get('authorization'), req.method);
      if (!auth.ok) return this.reply(cseq, 401, 'Unauthorized', { 'WWW-Authenticate': auth.challenge });
    }
    switch (req.method) {
      case 'OPTIONS':
        return this.reply(cseq, 200, 'OK', { Public: PUBLIC });
      case 'DESCRIBE': {
        const sdp = this.host.sdp();
        const base = req.url.endsWith('/') ? req.url : `${req.url}/`;
        return this.reply(cseq, 200, 'OK', { 'Content-Base': base, 'Content-Type': 'application/sdp' }, sdp);
      }
      case 'SETUP': {
        const transport = req.headers.get('transport') ?? '';
        if (/RTP\/AVP\/TCP/i.test(transport)) {
          const m = /interleaved=(\d+)(?:-(\d+))?/.exec(transport);
          const ch = Number(m?.[1] ?? 0);
          this.client = { kind: 'tcp', socket: this.socket, channel: ch };
          return this.reply(cseq, 200, 'OK', { Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`, Session: sessionHeader });
        }
        const m = /client_port=(\d+)-(\d+)/.exec(transport);
        if (!m?.[1] || !m[2]) return this.reply(cseq, 461, 'Unsupported Transport');
        const [sp, scp] = this.host.serverPorts();
        this.client = { kind: 'udp', address: this.socket.remoteAddress ?? '127.0.0.1', ports: [Number(m[1]), Number(m[2])] };
        return this.reply(cseq, 200, 'OK', {
          Transport: `RTP/AVP;unicast;client_port=${m[1]}-${m[2]};server_port=${sp}-${scp}`,
          Session: sessionHeader,
        });
      }
      case 'PLAY':
        if (!this.client) return this.reply(cseq, 455, 'Method Not Valid in This State');
        if (!this.playing) this.host.play(this.client);
        this.playing = true;
        return this.reply(cseq, 200, 'OK', { Session: sessionHeader, Range: 'npt=0.000-' });
      case 'PAUSE':
        this.stopPlaying();
        return this.reply(cseq, 200, 'OK', { Session: sessionHeader });
      case 'TEARDOWN':
        this.teardown();
        this.reply(cseq, 200, 'OK', { Session: sessionHeader });
        this.socket.end();
        return;
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return this.reply(cseq, 200, 'OK', { Session: sessionHeader });
      default:
        return this.reply(cseq, 501, 'Not Implemented', { Public: PUBLIC });
    }
  }

  private reply(cseq: string, status: number, text: string, headers: Record<string, string> = {}, body = ''): void {
    if (this.socket.destroyed) return;
    let out = `RTSP/1.0 ${status} ${text}\r\nCSeq: ${cseq}\r\nServer: SafeCommunity-SimCam\r\n`;
    for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
    if (body) out += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    this.socket.write(`${out}\r\n${body}`);
  }

  private stopPlaying(): void {
    if (this.playing && this.client) this.host.stop(this.client);
    this.playing = false;
  }

  private teardown(): void {
    this.stopPlaying();
    this.client = undefined;
  }
}

function parseRequest(head: string): Request | undefined {
  const lines = head.split('\r\n');
  const m = /^([A-Z_]+) (\S+) RTSP\/1\.0$/.exec(lines[0] ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { method: m[1], url: m[2], headers };
}
