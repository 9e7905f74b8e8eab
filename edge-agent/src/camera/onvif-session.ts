/**
 * One authenticated ONVIF session with one camera, over the `onvif` package's promise API. This is the only
 * file that touches that package: its promise typings drop the options argument of several methods
 * (getStreamUri, getPresets, gotoPreset…), so the calls used here are declared once, with their real
 * signatures, in `PromiseCam`, and the loosely typed answers are narrowed into plain records.
 */
import { Agent } from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import onvif from 'onvif/promises/index.js';
import { CodedError } from '@safe-community/runtime';
import { authorization, parseChallenge } from './http-auth.js';
import { CAMERA_NO_PRESET, CAMERA_PROTOCOL, CAMERA_SNAPSHOT, classifyCameraError } from './errors.js';

export interface CameraEndpoint {
  hostname: string;
  /** Default 80. */
  port?: number;
  /** Device service path; default /onvif/device_service. */
  path?: string;
  /** Empty or absent: the camera has no authentication and gets no WS-Security header at all. */
  username?: string;
  password?: string;
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface MediaProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
  fps?: number;
  ptz: boolean;
}

export interface PtzPosition {
  x: number;
  y: number;
  zoom: number;
}

export interface Preset {
  token: string;
  name: string;
  /** Where the preset points, when the camera says (PTZPosition); the goto read-back compares against it. */
  position?: PtzPosition;
}

export interface PtzStatus {
  position: PtzPosition;
  /** Pan/tilt or zoom still moving (MoveStatus MOVING). */
  moving: boolean;
}

/** Raw PullPoint answer after the package's XML flattening. */
export interface PullResult {
  currentTime?: Date;
  terminationTime?: Date;
  notificationMessage?: unknown;
}

/** The calls this adapter makes, with the arguments the package really takes. */
interface PromiseCam {
  connect(): Promise<void>;
  getDeviceInformation(): Promise<Record<string, unknown>>;
  getProfiles(): Promise<unknown[]>;
  getStreamUri(options: { protocol?: string; stream?: string; profileToken?: string }): Promise<{ uri?: unknown }>;
  getSnapshotUri(options: { profileToken?: string }): Promise<{ uri?: unknown }>;
  getPresets(options: { profileToken?: string }): Promise<Record<string, unknown>>;
  gotoPreset(options: { profileToken?: string; preset: string }): Promise<unknown>;
  getStatus(options: { profileToken?: string }): Promise<{ position?: { x?: unknown; y?: unknown; zoom?: unknown }; moveStatus?: unknown }>;
  createPullPointSubscription(): Promise<unknown>;
  pullMessages(options: { messageLimit?: number }): Promise<PullResult>;
  renew(options: Record<string, never>): Promise<{ terminationTime?: Date; currentTime?: Date }>;
  unsubscribe(): Promise<unknown>;
  /** The package's raw SOAP request: resolves with the parsed Body (arrays of elements, prefixes stripped). */
  _request(options: { url: unknown; body: string; action: string }): Promise<unknown>;
  // The promise wrapper is a Proxy onto the callback Cam: EventEmitter methods and plain fields pass through.
  on(event: string, fn: (...args: unknown[]) => void): void;
  events: { terminationTime?: Date; subscription?: { subscriptionReference?: { address?: unknown; referenceParameters?: unknown } } };
  /** Service addresses from GetCapabilities/GetServices, by lower-case service name (device, media, events, ptz…). */
  uri?: Record<string, unknown>;
}

export interface OnvifSessionOptions {
  /** Camera id used in error messages and logs. */
  camera: string;
  endpoint: CameraEndpoint;
  /** Per-request socket timeout; default 5000 ms (a PullMessages long-poll gets its own, longer one). */
  timeoutMs?: number;
  /** Warnings the package raises (e.g. no active video source). */
  onWarning?: (message: string) => void;
}

export class OnvifSession {
  private cam: PromiseCam | undefined;
  private agent: Agent | undefined;
  private presetCache: Preset[] | undefined;

  constructor(private readonly opts: OnvifSessionOptions) {}

  /** GetSystemDateAndTime, then services/capabilities and profiles, authenticated by WS-Security UsernameToken. */
  async connect(): Promise<void> {
    this.close();
    const { endpoint } = this.opts;
    // Our own agent, so close() can cut a PullMessages long-poll that would otherwise hold the socket for a minute.
    this.agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const cam = new onvif.Cam({
      hostname: endpoint.hostname,
      port: endpoint.port ?? 80,
      path: endpoint.path ?? '/onvif/device_service',
      // No username, no WS-Security header (the package adds one only with both): cameras without
      // authentication refuse requests that carry one (issue #14, gSOAP firmware).
      username: endpoint.username ?? '',
      password: endpoint.password ?? '',
      timeout: this.opts.timeoutMs ?? 5000,
      agent: this.agent,
      // Service addresses a camera reports behind NAT are often unreachable; keep the configured host.
      preserveAddress: true,
    }) as unknown as PromiseCam;
    cam.on('warning', (msg) => this.opts.onWarning?.(String(msg)));
    cam.on('error', (err) => this.opts.onWarning?.(String((err as Error)?.message ?? err)));
    this.cam = cam;
    await this.call('connect', () => cam.connect());
  }

  /** Drops the session and cuts its open sockets. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.cam = undefined;
    this.presetCache = undefined;
  }

  get connected(): boolean {
    return this.cam !== undefined;
  }

  async deviceInformation(): Promise<DeviceInformation> {
    const info = await this.call('GetDeviceInformation', (c) => c.getDeviceInformation());
    const s = (k: string) => (info[k] === undefined ? '' : String(info[k]));
    return { manufacturer: s('manufacturer'), model: s('model'), firmwareVersion: s('firmwareVersion'), serialNumber: s('serialNumber'), hardwareId: s('hardwareId') };
  }

  async profiles(): Promise<MediaProfile[]> {
    const raw = await this.call('GetProfiles', (c) => c.getProfiles());
    return raw.map((p) => toProfile(p));
  }

  async streamUri(profileToken?: string): Promise<string> {
    const r = await this.call('GetStreamUri', (c) => c.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', ...(profileToken ? { profileToken } : {}) }));
    return requireUri(this.opts.camera, 'GetStreamUri', r?.uri);
  }

  async snapshotUri(profileToken?: string): Promise<string> {
    const r = await this.call('GetSnapshotUri', (c) => c.getSnapshotUri(profileToken ? { profileToken } : {}));
    return requireUri(this.opts.camera, 'GetSnapshotUri', r?.uri);
  }

  async presets(profileToken?: string): Promise<Preset[]> {
    const raw = await this.call('GetPresets', (c) => c.getPresets(profileToken ? { profileToken } : {}));
    const list = Object.entries(raw).map(([name, p]) => {
      const o = p as { $?: { token?: unknown }; PTZPosition?: { panTilt?: { $?: Record<string, unknown> }; zoom?: { $?: Record<string, unknown> } } };
      const pan = o?.PTZPosition?.panTilt?.$;
      const position = pan && Number.isFinite(Number(pan.x)) && Number.isFinite(Number(pan.y))
        ? { x: Number(pan.x), y: Number(pan.y), zoom: Number(o.PTZPosition?.zoom?.$?.x ?? 0) || 0 } : undefined;
      return { token: String(o?.$?.token ?? name), name: String(name), ...(position ? { position } : {}) };
    });
    this.presetCache = list;
    return list;
  }

  /** Moves to a preset given by token or by name. */
  async gotoPreset(preset: string, profileToken?: string): Promise<Preset> {
    const list = this.presetCache ?? (await this.presets(profileToken));
    const hit = list.find((p) => p.token === preset) ?? list.find((p) => p.name === preset);
    if (!hit) throw new CodedError(CAMERA_NO_PRESET, `camera ${this.opts.camera}: no preset "${preset}" (has ${list.map((p) => p.name).join(', ') || 'none'})`);
    await this.call('GotoPreset', (c) => c.gotoPreset({ preset: hit.token, ...(profileToken ? { profileToken } : {}) }));
    return hit;
  }

  /** PTZ GetStatus: where the head is and whether it is still moving. */
  async ptzStatus(profileToken?: string): Promise<PtzStatus> {
    const r = await this.call('GetStatus', (c) => c.getStatus(profileToken ? { profileToken } : {}));
    const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);
    const move = r?.moveStatus;
    // MoveStatus is { panTilt, zoom } on most cameras, a bare string on some.
    const states = typeof move === 'string' ? [move] : move && typeof move === 'object' ? Object.values(move as Record<string, unknown>).map(String) : [];
    return {
      position: { x: num(r?.position?.x), y: num(r?.position?.y), zoom: num(r?.position?.zoom) },
      moving: states.some((s) => s.toUpperCase() === 'MOVING'),
    };
  }

  /** Fetches the JPEG behind the snapshot URI, answering a Digest (or Basic) challenge with the camera's credentials. */
  async fetchSnapshot(uri: string, timeoutMs = 5000): Promise<Buffer> {
    const { username = '', password = '' } = this.opts.endpoint;
    const signal = AbortSignal.timeout(timeoutMs);
    const get = async (authorization?: string): Promise<Response> => {
      try {
        return await fetch(uri, { headers: authorization ? { authorization } : {}, signal });
      } catch (err) {
        throw classifyCameraError(this.opts.camera, 'snapshot download', (err as { cause?: unknown }).cause ?? err);
      }
    };
    let res = await get();
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      await res.arrayBuffer();
      if (!challenge) throw new CodedError(CAMERA_SNAPSHOT, `camera ${this.opts.camera}: snapshot URI asks for an unsupported authentication`);
      const url = new URL(uri);
      res = await get(authorization(challenge, username, password, 'GET', `${url.pathname}${url.search}`));
    }
    if (res.status === 401 || res.status === 403) {
      throw classifyCameraError(this.opts.camera, 'snapshot download', new Error(`HTTP ${res.status} unauthorized`));
    }
    const body = Buffer.from(await res.arrayBuffer());
    // JPEG starts with SOI (FF D8); anything else is an error page, not a picture.
    if (!res.ok || body.length < 4 || body[0] !== 0xff || body[1] !== 0xd8) {
      throw new CodedError(CAMERA_SNAPSHOT, `camera ${this.opts.camera}: snapshot is not a JPEG (HTTP ${res.status}, ${body.length} bytes)`);
    }
    return body;
  }

  async createPullPoint(): Promise<void> {
    await this.call('CreatePullPointSubscription', (c) => c.createPullPointSubscription());
    // The package sends PullMessages/Renew to the subscription address object as request options and
    // leaves our agent out; putting it there lets close() cut a held long-poll at once.
    const address = this.cam?.events.subscription?.subscriptionReference?.address;
    if (address && typeof address === 'object') (address as { agent?: Agent }).agent = this.agent;
  }

  /** One PullMessages long-poll (the package asks the camera to hold it up to a minute). */
  async pull(messageLimit = 10): Promise<PullResult> {
    return (await this.call('PullMessages', (c) => c.pullMessages({ messageLimit }))) ?? {};
  }

  /** True when the camera announced an events service (GetCapabilities/GetServices); false: no PullPoint to ask for. */
  get hasEventsService(): boolean {
    return this.cam?.uri?.events !== undefined;
  }

  /**
   * Renew per WS-BaseNotification (see subscriptionRequest). Updates the local end time, which the package
   * leaves as it was at subscription, so a renewed subscription is not renewed again on every pull.
   */
  async renew(ttl = 'PT2M'): Promise<Date | undefined> {
    const res = await this.subscriptionRequest('Renew', 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
      `<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>${ttl}</TerminationTime></Renew>`);
    const answer = objectOf(objectOf(res)?.renewResponse);
    const term = Date.parse(textOfElement(answer?.terminationTime));
    const now = Date.parse(textOfElement(answer?.currentTime));
    if (!Number.isFinite(term)) return undefined;
    // The camera's clock may differ from ours: keep the length it granted, not its wall time.
    const ends = new Date(Date.now() + term - (Number.isFinite(now) ? now : Date.now()));
    if (this.cam) this.cam.events.terminationTime = ends;
    return ends;
  }

  /**
   * One PullMessages with a short wait (the package always asks the camera to hold a pull for a minute):
   * for doctor's "pull once". Resolves with how many notifications came.
   */
  async pullOnce(waitSeconds = 1): Promise<number> {
    const res = await this.subscriptionRequest('PullMessages', 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest',
      `<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT${waitSeconds}S</Timeout><MessageLimit>10</MessageLimit></PullMessages>`);
    const answer = objectOf(objectOf(res)?.pullMessagesResponse);
    const msgs = answer?.notificationMessage;
    return Array.isArray(msgs) ? msgs.length : msgs === undefined ? 0 : 1;
  }

  /**
   * A request to the subscription manager as the WS-BaseNotification binding asks (§6.1.1): the
   * WS-Addressing Action, MessageID and To headers, and the subscription's reference parameters echoed
   * (the package sends To alone, which some firmwares refuse).
   */
  private async subscriptionRequest(what: string, action: string, bodyXml: string): Promise<unknown> {
    const sub = this.cam?.events.subscription?.subscriptionReference;
    const address = sub?.address as { href?: string } | undefined;
    if (!address?.href) throw new CodedError(CAMERA_PROTOCOL, `camera ${this.opts.camera}: ${what} without a subscription`);
    const header = `${this.security()}<a:Action s:mustUnderstand="1">${action}</a:Action>` +
      `<a:MessageID>urn:uuid:${randomUUID()}</a:MessageID><a:To s:mustUnderstand="1">${xmlText(address.href)}</a:To>${referenceParameters(sub?.referenceParameters)}`;
    const body = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">' +
      `<s:Header>${header}</s:Header><s:Body>${bodyXml}</s:Body></s:Envelope>`;
    return this.call(what, (c) => c._request({ url: address, body, action }));
  }

  /** WS-Security UsernameToken with PasswordDigest (OASIS UsernameToken Profile 1.0 §3.1); empty without a username. */
  private security(): string {
    const { username = '', password = '' } = this.opts.endpoint;
    if (!username) return '';
    const nonce = randomBytes(16);
    const created = new Date().toISOString();
    const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
    return '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
      `<Username>${xmlText(username)}</Username>` +
      `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
      `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
      `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created></UsernameToken></Security>`;
  }

  /** Whether a PullPoint subscription is open on this session. */
  get subscribed(): boolean {
    return this.cam?.events.subscription !== undefined;
  }

  /** Local time at which the current subscription ends, as the package computed it. */
  get subscriptionEnds(): Date | undefined {
    return this.cam?.events.terminationTime;
  }

  async unsubscribe(): Promise<void> {
    await this.call('Unsubscribe', (c) => c.unsubscribe());
  }

  private async call<T>(what: string, fn: (cam: PromiseCam) => Promise<T>): Promise<T> {
    const cam = this.cam;
    if (!cam) throw classifyCameraError(this.opts.camera, what, Object.assign(new Error('not connected'), { code: 'ECONNREFUSED' }));
    try {
      return await fn(cam);
    } catch (err) {
      throw classifyCameraError(this.opts.camera, what, Array.isArray(err) ? err[0] : err);
    }
  }
}

function toProfile(p: unknown): MediaProfile {
  const o = (p ?? {}) as {
    $?: { token?: unknown };
    name?: unknown;
    videoEncoderConfiguration?: { encoding?: unknown; resolution?: { width?: unknown; height?: unknown }; rateControl?: { frameRateLimit?: unknown } };
    PTZConfiguration?: unknown;
  };
  const enc = o.videoEncoderConfiguration;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    token: String(o.$?.token ?? ''),
    name: String(o.name ?? ''),
    ...(enc?.encoding !== undefined ? { encoding: String(enc.encoding) } : {}),
    ...(num(enc?.resolution?.width) !== undefined ? { width: num(enc?.resolution?.width) } : {}),
    ...(num(enc?.resolution?.height) !== undefined ? { height: num(enc?.resolution?.height) } : {}),
    ...(num(enc?.rateControl?.frameRateLimit) !== undefined ? { fps: num(enc?.rateControl?.frameRateLimit) } : {}),
    ptz: o.PTZConfiguration !== undefined,
  };
}

function requireUri(camera: string, what: string, uri: unknown): string {
  // Some firmwares wrap the URI in whitespace and newlines inside <tt:Uri>; a URL has none of its own.
  const text = typeof uri === 'string' ? uri.replace(/\s+/g, '') : '';
  if (text.length === 0) throw new CodedError(CAMERA_PROTOCOL, `camera ${camera}: ${what} returned no URI`);
  return text;
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The first element of an xml2js array (or the value itself) as an object. */
function objectOf(v: unknown): Record<string, unknown> | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return x !== null && typeof x === 'object' ? (x as Record<string, unknown>) : undefined;
}

/** The text of the first element of an xml2js array: a plain string, or `_` beside attributes. */
function textOfElement(v: unknown): string {
  const x = Array.isArray(v) ? v[0] : v;
  if (typeof x === 'string') return x.trim();
  const o = objectOf(x);
  return typeof o?._ === 'string' ? o._.trim() : '';
}

/** Reference parameters of the subscription (e.g. a subscription id) go back as headers (WS-Addressing §3.3). */
function referenceParameters(params: unknown): string {
  if (!params || typeof params !== 'object') return '';
  return Object.entries(params as Record<string, unknown>)
    .filter(([k, v]) => !k.startsWith('$') && (typeof v === 'string' || typeof v === 'number'))
    .map(([k, v]) => `<${k} a:IsReferenceParameter="true">${xmlText(String(v))}</${k}>`).join('');
}
