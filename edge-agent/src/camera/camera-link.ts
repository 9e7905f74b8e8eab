/**
 * The live link to one camera: connects (WS-Security), keeps a PullPoint subscription pulling, renews it
 * before it ends, and on any failure drops the session and reconnects after a Backoff delay. It reports
 * online/offline transitions and signal changes to its owner; it never throws out of its loop.
 */
import { Backoff, CodedError, errorCode, passedOn, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import { OnvifSession, type CameraEndpoint, type MediaProfile, type Preset } from './onvif-session.js';
import { mapNotification } from './event-mapper.js';
import { SignalState, type SignalChange } from './signal-state.js';
import { CAMERA_OFFLINE, CAMERA_PROTOCOL, CAMERA_TIMEOUT } from './errors.js';
import type { EventsState } from './camera-state.js';
import { chooseProfile, type ProfileRole } from './profile-roles.js';

export interface CameraConfig extends CameraEndpoint {
  /** Device id (matches the device directory). */
  id: string;
  /** Media profile for every role unless `profiles` names one; default per role (profile-roles.ts). */
  profileToken?: string;
  /** Media profile token per role: analytics stream, snapshots (and recording), PTZ. */
  profiles?: { analytics?: string; snapshot?: string; ptz?: string; recording?: string };
  /** Motion with no "stopped" from the camera ends after this; default 30 s. */
  motionStopTimeoutMs?: number;
  /** Subscribe to events; default true. Without events a device-information heartbeat detects outages. */
  events?: boolean;
  tags?: Record<string, string>;
}

export interface LinkStatus {
  state: 'connecting' | 'online' | 'offline' | 'stopped';
  /** Code and message of the last failure while offline. */
  error?: { code: string; message: string };
  since: number;
}

export interface CameraLinkDeps {
  clock?: Clock;
  log?: Logger;
  backoff?: { initialMs: number; maxMs: number };
  timeoutMs?: number;
  /** Heartbeat period when events are off or unsupported; default 30 s. */
  heartbeatMs?: number;
  onSignal: (camera: string, change: SignalChange) => void;
  onStatus: (camera: string, status: LinkStatus) => void;
  /** How long a camera found without usable events is watched by heartbeat before it is asked again; default 15 min. */
  eventsRetryMs?: number;
  /** Whether PullPoint events are subscribed, off, or found unsupported (then a heartbeat watches the camera). */
  onEvents?: (camera: string, state: EventsState) => void;
}

/** Renew the subscription when less than this remains. */
const RENEW_MARGIN_MS = 60_000;
/** Protocol faults in a row on the event channel before the link is treated as broken. */
const MAX_EVENT_FAULTS = 3;

export class CameraLink {
  private readonly session: OnvifSession;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly signals: SignalState;
  private current: LinkStatus;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private readonly sleepers = new Set<{ timer: unknown; resolve: () => void }>();
  private generation = 0;
  private profileList: MediaProfile[] = [];
  private presetList: Preset[] | undefined;
  private snapshotUriCache: string | undefined;
  /**
   * Set once the camera showed it has no usable PullPoint (no events service, a fault, or a connection
   * reset on CreatePullPointSubscription while the device service still answers). Kept for the life of the
   * link: asking again on every reconnect is what made such a camera flap online/offline (issue #14).
   */
  private eventsUnsupported = false;
  private eventsUnsupportedAt = 0;
  private readonly eventsRetryMs: number;

  constructor(
    readonly config: CameraConfig,
    private readonly deps: CameraLinkDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: deps.backoff?.initialMs ?? 1000, maxMs: deps.backoff?.maxMs ?? 60_000 });
    this.session = new OnvifSession({
      camera: config.id,
      endpoint: config,
      timeoutMs: deps.timeoutMs ?? 5000,
      onWarning: (m) => deps.log?.warn({ camera: config.id }, `onvif: ${m}`),
    });
    this.signals = new SignalState(this.clock, config.motionStopTimeoutMs ?? 30_000, (c) => deps.onSignal(config.id, c));
    this.current = { state: 'stopped', since: this.clock.now() };
    this.eventsRetryMs = deps.eventsRetryMs ?? 15 * 60_000;
  }

  /** Starts the link; resolves after the first connection attempt, whatever its outcome. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    let first!: () => void;
    const firstDone = new Promise<void>((r) => (first = r));
    this.loop = this.run(first);
    await firstDone;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Leave no subscription behind on the camera: firmwares hold a handful and refuse more until they expire.
    await this.unsubscribeQuietly();
    this.session.close();
    this.signals.clear();
    this.interruptSleep();
    await this.loop;
    this.setStatus({ state: 'stopped', since: this.clock.now() });
  }

  get status(): LinkStatus {
    return this.current;
  }

  get profiles(): readonly MediaProfile[] {
    return this.profileList;
  }

  /** Presets as last read from the camera; undefined before the first connection or without PTZ. */
  get presets(): readonly Preset[] | undefined {
    return this.presetList;
  }

  /** The connected session, or CAMERA_OFFLINE with the reason of the last failure. */
  online(): OnvifSession {
    if (this.current.state !== 'online') {
      const why = this.current.error ? `: ${this.current.error.message}` : '';
      throw new CodedError(passedOn(this.current.error?.code ?? CAMERA_OFFLINE), `camera ${this.config.id} is ${this.current.state}${why}`);
    }
    return this.session;
  }

  /** The media profile token serving a role (configured, else the role's default). */
  profileFor(role: ProfileRole): string | undefined {
    return chooseProfile(this.profileList, role, { ...this.config.profiles, ...(this.config.profileToken ? { profileToken: this.config.profileToken } : {}) }, this.config.id);
  }

  async snapshotUri(): Promise<string> {
    this.snapshotUriCache ??= await this.online().snapshotUri(this.profileFor('snapshot'));
    return this.snapshotUriCache;
  }

  private async run(firstAttemptDone: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        this.setStatus({ state: 'connecting', since: this.clock.now(), ...(this.current.error ? { error: this.current.error } : {}) });
        await this.session.connect();
        this.profileList = await this.session.profiles();
        this.snapshotUriCache = undefined;
        // Read once per connection so a drill can check the presets rules name before any alarm needs them.
        if (this.profileList.some((p) => p.ptz)) {
          this.presetList = await this.session.presets(this.profileFor('ptz')).catch((err: unknown) => {
            this.deps.log?.warn({ camera: this.config.id, err }, 'presets not readable');
            return this.presetList;
          });
        }
        this.backoff.reset();
        this.setStatus({ state: 'online', since: this.clock.now() });
        firstAttemptDone();
        await this.watch();
      } catch (err) {
        firstAttemptDone();
        if (this.stopped) break;
        this.generation++;
        const code = errorCode(err);
        this.deps.log?.warn({ camera: this.config.id, code, err }, 'camera link down');
        this.session.close();
        this.signals.endAll('offline');
        this.setStatus({ state: 'offline', since: this.clock.now(), error: { code, message: (err as Error).message } });
      }
      if (this.stopped) break;
      await this.sleep(this.backoff.next());
    }
  }

  /**
   * Pulls events until something fails, with a heartbeat alongside: a camera that hangs without closing the
   * connection would otherwise hold a PullMessages open for its full minute before anyone noticed.
   * Falls back to the heartbeat alone when events are off or the camera has no PullPoint.
   */
  private async watch(): Promise<void> {
    const gen = ++this.generation;
    // Loops of an earlier session see the generation move on and end instead of touching the new session.
    const alive = () => !this.stopped && this.generation === gen;
    if (this.config.events === false) {
      this.deps.onEvents?.(this.config.id, 'off');
      return this.heartbeat(alive);
    }
    // Without usable events: heartbeat, and ask again now and then (a firmware update, or a one-off fault
    // that looked like "unsupported"), never on every reconnect.
    for (;;) {
      const due = !this.eventsUnsupported || this.clock.now() >= this.eventsUnsupportedAt + this.eventsRetryMs;
      if (due && (await this.subscribe())) break;
      await this.heartbeat(alive, this.eventsUnsupportedAt + this.eventsRetryMs);
      if (!alive()) return;
    }
    try {
      await Promise.race([this.pullLoop(alive), this.heartbeat(alive)]);
    } finally {
      this.generation++;
    }
  }

  /**
   * Creates the PullPoint; false (and events marked unsupported until eventsRetryMs has passed) when the camera has none. A camera
   * without an events service may just cut the connection on CreatePullPointSubscription: when the device
   * service still answers right after, that is the events service's answer, not an outage.
   */
  private async subscribe(): Promise<boolean> {
    let failure: unknown;
    if (this.session.hasEventsService) {
      try {
        await this.session.createPullPoint();
        this.eventsUnsupported = false;
        this.deps.onEvents?.(this.config.id, 'subscribed');
        return true;
      } catch (err) {
        const code = errorCode(err);
        if (code !== CAMERA_PROTOCOL && code !== CAMERA_OFFLINE && code !== CAMERA_TIMEOUT) throw err;
        // Still reachable? If not, this was an outage and the link reconnects as usual.
        if (code !== CAMERA_PROTOCOL) await this.session.deviceInformation().catch(() => Promise.reject(err));
        failure = err;
      }
    }
    this.eventsUnsupported = true;
    this.eventsUnsupportedAt = this.clock.now();
    this.deps.log?.warn({ camera: this.config.id, err: failure }, 'camera events unsupported (no PullPoint); watching it by heartbeat');
    this.deps.onEvents?.(this.config.id, 'unsupported');
    return false;
  }

  private async pullLoop(alive: () => boolean): Promise<void> {
    let faults = 0;
    while (alive()) {
      try {
        const res = await this.session.pull();
        if (!alive()) return;
        faults = 0;
        const raw = res.notificationMessage;
        for (const msg of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
          const signal = mapNotification(msg);
          if (signal) this.signals.apply(signal);
        }
        const ends = this.session.subscriptionEnds;
        if (ends && ends.getTime() - Date.now() < RENEW_MARGIN_MS) await this.renewOrResubscribe();
      } catch (err) {
        if (!alive()) return;
        // A fault on the event channel (expired subscription, camera rebooted its event service) is fixed by
        // subscribing again; network failures and repeated faults go up and reconnect the whole link.
        if (errorCode(err) !== CAMERA_PROTOCOL || ++faults >= MAX_EVENT_FAULTS) throw err;
        this.deps.log?.info({ camera: this.config.id, err }, 'event subscription lost; subscribing again');
        await this.session.createPullPoint();
      }
    }
  }

  /**
   * Renew per spec; a camera whose Renew faults (seen in the field with "error -8" on every Renew) gets a
   * fresh subscription instead. Signal state is kept across it: the new subscription's Initialized
   * messages repeat what is on, and SignalState reports only changes (issue #14).
   */
  private async renewOrResubscribe(): Promise<void> {
    try {
      await this.session.renew();
    } catch (err) {
      if (errorCode(err) !== CAMERA_PROTOCOL) throw err;
      this.deps.log?.info({ camera: this.config.id, err }, 'Renew refused; replacing the subscription');
      await this.unsubscribeQuietly();
      await this.session.createPullPoint();
    }
  }

  private async unsubscribeQuietly(): Promise<void> {
    if (!this.session.subscribed) return;
    try {
      await this.session.unsubscribe();
    } catch (err) {
      this.deps.log?.debug({ camera: this.config.id, err }, 'unsubscribe not answered');
    }
  }

  /** Device-information requests every heartbeatMs until something fails, the link ends, or `untilMs` (clock time) passes. */
  private async heartbeat(alive: () => boolean, untilMs = Infinity): Promise<void> {
    while (alive() && this.clock.now() < untilMs) {
      await this.sleep(this.deps.heartbeatMs ?? 30_000);
      if (!alive()) return;
      await this.session.deviceInformation();
    }
  }

  private setStatus(next: LinkStatus): void {
    const prev = this.current;
    this.current = next;
    if (prev.state !== next.state || prev.error?.code !== next.error?.code) this.deps.onStatus(this.config.id, next);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = { timer: undefined as unknown, resolve };
      sleeper.timer = this.clock.setTimeout(() => {
        this.sleepers.delete(sleeper);
        resolve();
      }, ms);
      this.sleepers.add(sleeper);
    });
  }

  /** Wakes every pending sleep (the reconnect wait and any heartbeat) so stop() does not wait them out. */
  private interruptSleep(): void {
    for (const s of this.sleepers) {
      this.clock.clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }
}
