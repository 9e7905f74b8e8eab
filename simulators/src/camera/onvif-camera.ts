/**
 * A simulated ONVIF Profile S camera: real SOAP 1.2 over HTTP on 127.0.0.1 for device information,
 * capabilities/services, media profiles, stream and snapshot URIs, PTZ presets and PullPoint events, with
 * WS-Security UsernameToken authentication. Tests and the demo drive its events (motion, tamper, the
 * camera's own analytics) through methods; a mode that never sends "motion stopped" mimics cameras that do so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { CodedError } from '@safe-community/runtime';
import { durationMs, envelope, fault, operationOf, textOf, UsernameTokenVerifier, type Credentials } from './soap.js';
import { HttpAuthenticator } from './http-digest.js';
import { PullPointRegistry, type CameraNotification } from './pull-point.js';
import * as R from './responses.js';
import { NORMAL_CAMERA, type CameraQuirks } from './quirks.js';

export interface SimulatedCameraOptions {
  /** Interface to listen on; loopback unless a demo says otherwise. */
  host?: string;
  /** 0 (default) picks a free port; a restarted camera keeps the port it had. */
  port?: number;
  credentials: Credentials;
  identity?: Partial<R.DeviceIdentity>;
  /** JPEG served by the snapshot URI. */
  snapshotFile: string;
  /** Base of the RTSP URIs handed out, e.g. rtsp://127.0.0.1:8554 (profile paths are appended). */
  rtspBase: string;
  profiles?: R.SimProfile[];
  presets?: R.SimPreset[];
  /** Authentication of the snapshot URI; default 'digest', as most cameras do. */
  snapshotAuth?: 'basic' | 'digest';
  /** 'never': the camera sends motion start but never "motion stopped" (seen on budget cameras). */
  motionStop?: 'normal' | 'never';
  /** Upper bound on how long a PullMessages is held open, whatever the client asks; default 60 s (ONVIF's usual). */
  maxPullWaitMs?: number;
  /** How long a GotoPreset takes to arrive (GetStatus says MOVING meanwhile); default 300 ms. */
  ptzMoveMs?: number;
  /** Longest subscription the camera grants, whatever the client asks (ONVIF lets the device choose); default no limit. */
  subscriptionTtlMs?: number;
  /** Field behaviours of real firmwares (quirks.ts); default a well-behaved camera. */
  quirks?: CameraQuirks;
  now?: () => number;
}

const DEFAULT_PROFILES: R.SimProfile[] = [
  { token: 'profile_main', name: 'mainStream', width: 768, height: 576, fps: 10, streamPath: '/main' },
  { token: 'profile_sub', name: 'subStream', width: 768, height: 576, fps: 10, streamPath: '/sub' },
];
const DEFAULT_PRESETS: R.SimPreset[] = [
  { token: 'preset_home', name: 'home' },
  { token: 'preset_gate', name: 'gate' },
  { token: 'preset_carpark', name: 'carpark' },
];

/** Operations a client may call before it knows the camera clock (ONVIF Core §5.9.4). */
const UNAUTHENTICATED = new Set(['GetSystemDateAndTime']);
/** Operations of the events service and its subscription managers. */
const EVENT_OPS = new Set(['CreatePullPointSubscription', 'PullMessages', 'Renew', 'Unsubscribe', 'GetEventProperties', 'SetSynchronizationPoint']);

export class SimulatedOnvifCamera {
  private server: Server | undefined;
  private boundPort = 0;
  private readonly pullPoints: PullPointRegistry;
  private readonly verifier: UsernameTokenVerifier;
  private readonly httpAuth: HttpAuthenticator;
  private readonly now: () => number;
  private current: string | undefined;
  /** Head position, and the move under way: GetStatus reports MOVING until `arriveAt`. */
  private position: R.PtzPosition = { x: 0, y: 0, zoom: 0 };
  private move: { to: R.PtzPosition; arriveAt: number } | undefined;
  private frozen = false;
  private readonly stats = { requests: 0, refused: 0, subscriptions: 0, renewals: 0, renewalsRefused: 0, unsubscribes: 0 };
  private quirks: Required<CameraQuirks>;
  /** Current state of each property event (topic + source), replayed as Initialized to a new subscription. */
  private readonly properties = new Map<string, CameraNotification>();

  constructor(private readonly opts: SimulatedCameraOptions) {
    this.now = opts.now ?? Date.now;
    this.quirks = { ...NORMAL_CAMERA, ...opts.quirks };
    this.pullPoints = new PullPointRegistry(this.now);
    this.verifier = new UsernameTokenVerifier(opts.credentials, this.now);
    this.httpAuth = new HttpAuthenticator(opts.snapshotAuth ?? 'digest', opts.credentials, this.now);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/soap+xml; charset=utf-8' });
        res.end(fault('Receiver', 'ter:Action', `internal error: ${(err as Error).message}`));
      });
    });
    const port = this.opts.port ?? this.boundPort;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new CodedError('SIM_CAMERA_LISTEN', `camera cannot listen on port ${port}`, { cause: err })));
      server.listen(port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes offline: held pulls are answered empty, open connections are cut (so clients see the outage at once). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.pullPoints.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  /** Device service address, what WS-Discovery advertises as XAddr. */
  get deviceServiceUrl(): string {
    return `http://${this.host}:${this.boundPort}/onvif/device_service`;
  }

  /** The preset token the camera last moved to (undefined before any GotoPreset). */
  get currentPreset(): string | undefined {
    return this.current;
  }

  get requestCount(): number {
    return this.stats.requests;
  }

  get refusedCount(): number {
    return this.stats.refused;
  }

  get subscriptionCount(): number {
    return this.pullPoints.size;
  }

  /** Subscriptions created, Renews answered and refused, and Unsubscribes, since start. */
  get eventStats(): { subscriptions: number; renewals: number; renewalsRefused: number; unsubscribes: number } {
    const { subscriptions, renewals, renewalsRefused, unsubscribes } = this.stats;
    return { subscriptions, renewals, renewalsRefused, unsubscribes };
  }

  /**
   * Frozen: the camera keeps its connections but answers nothing, like a hung firmware or a pulled cable
   * with no TCP reset. Held pulls stay held; new requests get no answer until unfrozen or stopped.
   */
  setFrozen(frozen: boolean): void {
    this.frozen = frozen;
  }

  /** Changes quirks while running, as a firmware update in place would. */
  setQuirks(quirks: CameraQuirks): void {
    this.quirks = { ...this.quirks, ...quirks };
  }

  /** Raises motion start (true) or stop (false) on the video source; in 'never' mode stops are swallowed. */
  setMotion(active: boolean): void {
    if (!active && this.opts.motionStop === 'never') return;
    this.notify('tns1:VideoSource/MotionAlarm', { Source: R.VIDEO_SOURCE_TOKEN }, { State: String(active) });
    if (this.quirks.motionTopics === 'both') {
      this.notify(
        'tns1:RuleEngine/CellMotionDetector/Motion',
        { VideoSourceConfigurationToken: 'vsc_profile_main', VideoAnalyticsConfigurationToken: 'vac_1', Rule: 'MyMotionDetectorRule' },
        { IsMotion: String(active) },
      );
    }
  }

  /** Raises or clears the tamper (global scene change) alarm. */
  setTamper(active: boolean): void {
    this.notify('tns1:VideoSource/GlobalSceneChange/ImagingService', { Source: R.VIDEO_SOURCE_TOKEN }, { State: String(active) });
  }

  /** The camera's own analytics: an object inside a field-detector rule. */
  setFieldDetection(rule: string, inside: boolean): void {
    this.notify(
      'tns1:RuleEngine/FieldDetector/ObjectsInside',
      { VideoSourceConfigurationToken: 'vsc_profile_main', Rule: rule },
      { IsInside: String(inside) },
    );
  }

  private notify(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    const msg: CameraNotification = { topic, utcTime: new Date(this.now()).toISOString(), operation: 'Changed', source, data };
    this.properties.set(`${topic}|${JSON.stringify(source)}`, msg);
    this.pullPoints.publish(msg);
  }

  private base(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  private addrs(): R.ServiceAddrs {
    const b = this.base();
    return {
      device: `${b}/onvif/device_service`, media: `${b}/onvif/media_service`, ptz: `${b}/onvif/ptz_service`,
      ...(this.quirks.events === 'none' ? {} : { events: `${b}/onvif/events_service` }),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    if (this.frozen) return;
    const url = new URL(req.url ?? '/', this.base());
    if (req.method === 'GET' && url.pathname === '/onvif/snapshot.jpg') return this.snapshot(req, res);
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const xml = await readBody(req, 256 * 1024);
    const op = operationOf(xml);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
      res.end(body);
    };
    if (!op) return send(400, fault('Sender', 'ter:WellFormed', 'no operation in SOAP body'));
    if (this.quirks.wsSecurity === 'refused') {
      // A server without WS-Security cannot honour mustUnderstand="1" on the Security header (SOAP 1.2 §5.4.8).
      if (/<(?:[\w.-]+:)?Security\b/.test(xml)) return send(500, mustUnderstandFault());
    } else if (!UNAUTHENTICATED.has(op)) {
      const auth = this.verifier.verify(xml);
      if (!auth.ok) {
        this.stats.refused++;
        // ONVIF Core §5.12.2.1: a refused WS-Security token is HTTP 400 with the ter:NotAuthorized subcode.
        return send(400, fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized'));
      }
    }
    if (op === 'CreatePullPointSubscription' && this.quirks.events === 'reset-on-subscribe') {
      req.socket.destroy();
      return;
    }
    const sub = /^\/onvif\/subscription\/([\w-]+)$/.exec(url.pathname)?.[1];
    const answer = await this.dispatch(op, xml, sub);
    send(answer.status, answer.body);
  }

  private async dispatch(op: string, xml: string, sub: string | undefined): Promise<{ status: number; body: string }> {
    const ok = (body: string) => ({ status: 200, body: envelope(body) });
    const bad = (subcode: string, reason: string) => ({ status: 400, body: fault('Sender', subcode, reason) });
    const now = new Date(this.now());
    const profiles = this.opts.profiles ?? DEFAULT_PROFILES;
    const presets = this.opts.presets ?? DEFAULT_PRESETS;
    const profileFor = (): R.SimProfile | undefined => {
      const token = textOf(xml, 'ProfileToken');
      return token === undefined ? profiles[0] : profiles.find((p) => p.token === token);
    };
    if (EVENT_OPS.has(op) && this.quirks.events === 'none') {
      return { status: 400, body: fault('Receiver', 'ter:ActionNotSupported', `${op} is not supported by this camera`) };
    }
    const padded = this.quirks.uriWhitespace;
    switch (op) {
      case 'GetSystemDateAndTime':
        return ok(R.systemDateAndTime(now));
      case 'GetDeviceInformation':
        return ok(R.deviceInformation({ ...DEFAULT_IDENTITY, ...this.opts.identity }));
      case 'GetCapabilities':
        return ok(R.capabilities(this.addrs()));
      case 'GetServices':
        return ok(R.services(this.addrs()));
      case 'GetProfiles':
        return ok(R.profiles(profiles, presets.length > 0));
      case 'GetVideoSources':
        return profiles[0] ? ok(R.videoSources(profiles[0])) : bad('ter:NoSource', 'no video source');
      case 'GetStreamUri': {
        const p = profileFor();
        return p ? ok(R.streamUri(`${this.opts.rtspBase}${p.streamPath}`, padded)) : bad('ter:NoProfile', 'no such profile');
      }
      case 'GetSnapshotUri':
        return profileFor() ? ok(R.snapshotUri(`${this.base()}/onvif/snapshot.jpg`, padded)) : bad('ter:NoProfile', 'no such profile');
      case 'GetPresets':
        return profileFor() ? ok(R.presets(presets)) : bad('ter:NoProfile', 'no such profile');
      case 'GotoPreset': {
        const token = textOf(xml, 'PresetToken');
        const index = presets.findIndex((p) => p.token === token);
        if (index < 0) return bad('ter:NoToken', `no preset ${token ?? ''}`);
        this.current = token;
        if (this.quirks.ptz !== 'stuck') this.move = { to: R.presetPosition(index), arriveAt: this.now() + (this.opts.ptzMoveMs ?? 300) };
        return ok('<tptz:GotoPresetResponse/>');
      }
      case 'GetStatus': {
        if (this.quirks.ptz === 'none') return { status: 400, body: fault('Receiver', 'ter:ActionNotSupported', 'GetStatus is not supported by this camera') };
        if (this.move && this.now() >= this.move.arriveAt) {
          this.position = this.move.to;
          this.move = undefined;
        }
        return ok(R.ptzStatus(this.position, this.move !== undefined, now));
      }
      case 'CreatePullPointSubscription': {
        const ttl = Math.min(durationMs(textOf(xml, 'InitialTerminationTime'), 60_000), this.opts.subscriptionTtlMs ?? Infinity);
        const s = this.pullPoints.create(ttl, [...this.properties.values()]);
        this.stats.subscriptions++;
        return ok(R.createPullPoint(`${this.base()}/onvif/subscription/${s.id}`, now, new Date(s.terminationAt)));
      }
      case 'PullMessages': {
        const limit = Math.max(1, Number(textOf(xml, 'MessageLimit') ?? 10) || 10);
        const wait = Math.min(durationMs(textOf(xml, 'Timeout'), 10_000), this.opts.maxPullWaitMs ?? 60_000);
        const pending = sub ? this.pullPoints.pull(sub, limit, wait) : undefined;
        if (!pending) return bad('ter:InvalidArgVal', 'unknown or expired subscription');
        const msgs = await pending;
        const term = this.pullPoints.terminationOf(sub ?? '') ?? this.now();
        return ok(R.pullMessages(new Date(this.now()), new Date(term), msgs));
      }
      case 'Renew': {
        const refusal = this.renewRefusal(xml);
        if (refusal) {
          this.stats.renewalsRefused++;
          return { status: 400, body: fault('Receiver', 'ter:Action', refusal) };
        }
        this.stats.renewals++;
        const ttl = Math.min(durationMs(textOf(xml, 'TerminationTime'), 60_000), this.opts.subscriptionTtlMs ?? Infinity);
        const term = sub ? this.pullPoints.renew(sub, ttl) : undefined;
        return term === undefined ? bad('ter:InvalidArgVal', 'unknown or expired subscription') : ok(R.renew(now, new Date(term)));
      }
      case 'Unsubscribe':
        this.stats.unsubscribes++;
        return sub && this.pullPoints.unsubscribe(sub) ? ok('<wsnt:UnsubscribeResponse/>') : bad('ter:InvalidArgVal', 'unknown subscription');
      default:
        return { status: 400, body: fault('Receiver', 'ter:ActionNotSupported', `${op} is not supported by this camera`) };
    }
  }

  /** Why this Renew is refused under the camera's quirks, or undefined to accept it. */
  private renewRefusal(xml: string): string | undefined {
    if (this.quirks.renew === 'fault') return 'error -8';
    if (this.quirks.renew === 'needs-addressing') {
      const action = textOf(xml, 'Action') ?? '';
      if (!action.endsWith('/RenewRequest') || textOf(xml, 'To') === undefined) return 'missing WS-Addressing Action or To';
    }
    return undefined;
  }

  /** Snapshot JPEG behind HTTP Digest or Basic with the camera's credentials. */
  private async snapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A camera without authentication (wsSecurity 'refused') serves its snapshot openly too.
    if (this.quirks.wsSecurity !== 'refused' && !this.httpAuth.verify(req.headers.authorization, req.method ?? 'GET')) {
      if (req.headers.authorization) this.stats.refused++;
      res.writeHead(401, { 'www-authenticate': this.httpAuth.challenge() }).end();
      return;
    }
    const jpeg = await readFile(this.opts.snapshotFile);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
  }
}

/** SOAP 1.2 MustUnderstand fault for a header the camera cannot process (here: WS-Security). */
function mustUnderstandFault(): string {
  return envelope(
    '<s:Fault><s:Code><s:Value>s:MustUnderstand</s:Value></s:Code>' +
      '<s:Reason><s:Text xml:lang="en">The data in element \'Security\' must be understood but cannot be handled</s:Text></s:Reason></s:Fault>',
  );
}

const DEFAULT_IDENTITY: R.DeviceIdentity = {
  manufacturer: 'SafeCommunity',
  model: 'SimCam-100',
  firmwareVersion: '1.0.0',
  serialNumber: 'SIM0001',
  hardwareId: 'SC100',
};

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new CodedError('SIM_CAMERA_BODY_TOO_LARGE', `request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
