/**
 * An RTSP source that plays a video file in a loop to any number of pull clients.
 *
 * ffmpeg cannot serve RTSP to pull clients, so the work is split: ffmpeg reads the file in real time
 * (`-re -stream_loop -1`), copies the H.264 stream without re-encoding into RTP sent to a loopback UDP port,
 * and writes the SDP; this server answers OPTIONS/DESCRIBE/SETUP/PLAY/TEARDOWN (RFC 2326) and fans the RTP
 * packets out to every playing client, interleaved on the RTSP connection (RTP/AVP/TCP) or over UDP.
 * Chosen over GStreamer's RTSP server: no extra Debian packages beyond ffmpeg, the whole path is Node code
 * the tests can see, and looping a file needs no seek-on-EOS handling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Backoff, CodedError } from '@safe-community/runtime';
import { RtspConnection, type RtspClient } from './rtsp-connection.js';
import { HttpAuthenticator } from './http-digest.js';
import type { Credentials } from './soap.js';

export interface RtspSourceOptions {
  /** Video to loop; H.264 in MP4 is copied without re-encoding. */
  file: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  ffmpegPath?: string;
  /** ffmpeg restarts allowed after unexpected exits before the source gives up. */
  restartBudget?: number;
  /** Require these credentials from clients (RTSP Digest by default, or Basic); omitted: open source. */
  credentials?: Credentials;
  auth?: 'basic' | 'digest';
  /** Called when ffmpeg fails for good or a restart happens, for the owner's log. */
  onError?: (err: CodedError) => void;
}

/** Per-client send buffer above which packets are dropped for that client, so a stalled client costs bounded memory. */
const MAX_CLIENT_BUFFER = 2 * 1024 * 1024;

export class RtspLoopSource {
  private server: Server | undefined;
  private rtp: UdpSocket | undefined;
  private rtcp: UdpSocket | undefined;
  private ffmpeg: ChildProcess | undefined;
  private workDir: string | undefined;
  private sdp = '';
  private readonly clients = new Set<RtspClient>();
  private readonly connections = new Set<RtspConnection>();
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
  private packets = 0;
  private refused = 0;
  private readonly auth: HttpAuthenticator | undefined;
  /** The port of the first start: a source stopped and started again (a stream that dies and returns) keeps it. */
  private boundPort = 0;

  constructor(private readonly opts: RtspSourceOptions) {
    this.auth = opts.credentials ? new HttpAuthenticator(opts.auth ?? 'digest', opts.credentials, Date.now) : undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.stopping = false;
    try {
      this.workDir = await mkdtemp(join(tmpdir(), 'rtsp-src-'));
      this.rtp = await bindUdp();
      this.rtcp = await bindUdp();
      this.rtp.on('message', (pkt) => this.fanOut(pkt, 0));
      this.rtcp.on('message', (pkt) => this.fanOut(pkt, 1));
      await this.spawnFfmpeg();
      this.sdp = rewriteSdp(await this.waitForSdp());
      const server = createServer((sock) => this.accept(sock));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new CodedError('SIM_RTSP_LISTEN', 'RTSP source cannot listen', { cause: err })));
        server.listen(this.opts.port ?? this.boundPort, this.opts.host ?? '127.0.0.1', () => resolve());
      });
      this.boundPort = (server.address() as AddressInfo).port;
    } catch (err) {
      // Leave nothing behind (ffmpeg, sockets, temp dir) when the source cannot come up.
      await this.stop();
      throw err;
    }
  }

  /** Process id of the current ffmpeg, for supervision checks. */
  get ffmpegPid(): number | undefined {
    return this.ffmpeg?.pid;
  }

  /** ffmpeg restarts since start. */
  get restartCount(): number {
    return this.restarts;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    for (const c of this.connections) c.close();
    this.connections.clear();
    this.clients.clear();
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.killFfmpeg();
    for (const s of [this.rtp, this.rtcp]) if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    this.rtp = this.rtcp = undefined;
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
    this.workDir = undefined;
  }

  get port(): number {
    return this.server?.listening ? (this.server.address() as AddressInfo).port : 0;
  }

  /** rtsp://host:port — append a path such as /main. Stays the same while the source is stopped and after it returns. */
  get baseUrl(): string {
    return `rtsp://${this.opts.host ?? '127.0.0.1'}:${this.port || this.boundPort}`;
  }

  get playingClients(): number {
    return this.clients.size;
  }

  /** RTP/RTCP packets received from ffmpeg so far (a liveness figure for tests and doctor). */
  get packetCount(): number {
    return this.packets;
  }

  private accept(sock: Socket): void {
    const conn = new RtspConnection(sock, {
      sdp: () => this.sdp,
      serverPorts: () => [this.rtp?.address().port ?? 0, this.rtcp?.address().port ?? 0],
      play: (client) => this.clients.add(client),
      stop: (client) => this.clients.delete(client),
      ...(this.auth ? { authorize: (header: string | undefined, method: string) => this.checkAuth(header, method) } : {}),
    });
    this.connections.add(conn);
    sock.on('close', () => this.connections.delete(conn));
  }

  private checkAuth(header: string | undefined, method: string): { ok: true } | { ok: false; challenge: string } {
    const auth = this.auth;
    if (!auth || auth.verify(header, method)) return { ok: true };
    this.refused++;
    return { ok: false, challenge: auth.challenge() };
  }

  /** Requests refused for missing or wrong credentials. */
  get refusedCount(): number {
    return this.refused;
  }

  private fanOut(pkt: Buffer, channelOffset: 0 | 1): void {
    this.packets++;
    for (const c of this.clients) {
      if (c.kind === 'tcp') {
        if (c.socket.destroyed || c.socket.writableLength > MAX_CLIENT_BUFFER) continue;
        // RFC 2326 §10.12: '$', channel, 16-bit length, then the RTP/RTCP packet.
        const head = Buffer.from([0x24, c.channel + channelOffset, pkt.length >> 8, pkt.length & 0xff]);
        c.socket.write(Buffer.concat([head, pkt]));
      } else {
        const out = channelOffset === 0 ? this.rtp : this.rtcp;
        out?.send(pkt, c.ports[channelOffset], c.address);
      }
    }
  }

  private async spawnFfmpeg(): Promise<void> {
    const rtpPort = this.rtp?.address().port;
    const rtcpPort = this.rtcp?.address().port;
    const sdpFile = join(this.workDir ?? tmpdir(), 'stream.sdp');
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-re', '-stream_loop', '-1', '-i', this.opts.file,
      '-an', '-c:v', 'copy', '-f', 'rtp', '-sdp_file', sdpFile,
      `rtp://127.0.0.1:${rtpPort}?rtcpport=${rtcpPort}&pkt_size=1200`,
    ];
    const child = spawn(this.opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.once('error', (err) => this.opts.onError?.(new CodedError('SIM_RTSP_FFMPEG', 'ffmpeg could not start', { cause: err })));
    child.once('exit', (code, signal) => {
      if (this.ffmpeg === child) this.ffmpeg = undefined;
      if (this.stopping) return;
      this.onFfmpegExit(new CodedError('SIM_RTSP_FFMPEG_EXIT', `ffmpeg exited (${code ?? signal}): ${stderr.trim()}`));
    });
    this.ffmpeg = child;
  }

  /** Restarts ffmpeg with backoff while the budget lasts; clients stay connected and resume on the next keyframe. */
  private onFfmpegExit(err: CodedError): void {
    this.opts.onError?.(err);
    if (this.restarts >= (this.opts.restartBudget ?? 5)) return;
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.spawnFfmpeg().catch((e: unknown) => this.opts.onError?.(new CodedError('SIM_RTSP_FFMPEG', 'ffmpeg restart failed', { cause: e })));
    }, this.backoff.next());
  }

  private async waitForSdp(): Promise<string> {
    const file = join(this.workDir ?? tmpdir(), 'stream.sdp');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const text = await readFile(file, 'utf8');
        if (/^m=video/m.test(text)) return text;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CodedError('SIM_RTSP_SDP', 'cannot read SDP', { cause: err });
      }
      if (Date.now() > deadline || !this.ffmpeg) throw new CodedError('SIM_RTSP_SDP', 'ffmpeg wrote no SDP within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async killFfmpeg(): Promise<void> {
    const child = this.ffmpeg;
    this.ffmpeg = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

function bindUdp(): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** ffmpeg's SDP describes its own UDP target; clients need a session description with control URLs (RFC 2326 C.1). */
export function rewriteSdp(sdp: string): string {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0 && !l.startsWith('a=tool:'));
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('o=')) out.push(`o=- ${randomBytes(4).readUInt32BE(0)} 1 IN IP4 127.0.0.1`);
    else if (line.startsWith('c=')) out.push('c=IN IP4 0.0.0.0');
    else if (line.startsWith('s=')) out.push('s=SafeCommunity simulated camera');
    else if (line.startsWith('m=video')) out.push(line.replace(/^m=video \d+/, 'm=video 0'));
    else out.push(line);
    if (line.startsWith('t=')) out.push('a=control:*', 'a=range:npt=0-');
  }
  out.push('a=control:trackID=0');
  return out.join('\r\n') + '\r\n';
}
