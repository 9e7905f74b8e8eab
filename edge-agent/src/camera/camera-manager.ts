/**
 * All ONVIF cameras of this edge behind the agent's seams: it implements CameraPort (goto preset, snapshot
 * → stored reference) for the linkage engine and EventSource for canonical camera events
 * (camera.motion, camera.tamper, camera.analytics, camera.offline, camera.online).
 */
import { randomUUID } from 'node:crypto';
import { CodedError, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { Event, Severity } from '@safe-community/contracts';
import type { CameraPort, EventSource } from '../ports.js';
import { CameraLink, type CameraConfig, type LinkStatus } from './camera-link.js';
import type { SignalChange } from './signal-state.js';
import type { SnapshotStore } from './snapshot-store.js';
import { CAMERA_UNKNOWN, classifyCameraError } from './errors.js';
import type { DeviceInformation, MediaProfile, Preset } from './onvif-session.js';
import type { CameraStateBoard } from './camera-state.js';
import type { ProfileRole } from './profile-roles.js';
import { confirmPreset, type GotoConfirmation } from './ptz-readback.js';

export interface CameraManagerOptions {
  site: string;
  edge: string;
  cameras: readonly CameraConfig[];
  snapshots: SnapshotStore;
  clock?: Clock;
  log?: Logger;
  /** Reconnect delays; default 1 s growing to 60 s, jittered. */
  backoff?: { initialMs: number; maxMs: number };
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number;
  heartbeatMs?: number;
  /** A camera found without usable events is asked again after this; default 15 min. */
  eventsRetryMs?: number;
  /** How long a goto-preset may take to arrive, read back by PTZ GetStatus; default 4 s. */
  ptzConfirmMs?: number;
  /** Where each camera's link and events state is recorded for health and the admin endpoint. */
  board?: CameraStateBoard;
  /**
   * Hysteresis on camera.online: after a camera.offline, camera.online is reported only once the link has
   * stayed up this long (default 30 s); a camera that drops again sooner stays reported offline, so a
   * flaky camera costs at most one offline/online pair per hold instead of one per flap (issue #14).
   */
  onlineHoldMs?: number;
}

const SEVERITY: Readonly<Record<string, Severity>> = { motion: 'info', tamper: 'major', analytics: 'minor' };

export class CameraManager implements CameraPort, EventSource {
  private readonly links = new Map<string, CameraLink>();
  private readonly listeners = new Set<(e: Event) => void>();
  /** Last reported reachability per camera ('online' | 'offline'), so retries do not repeat camera.offline. */
  private readonly reported = new Map<string, 'online' | 'offline'>();
  /** Pending camera.online reports, waiting out the hold. */
  private readonly holds = new Map<string, unknown>();
  private readonly clock: Clock;

  constructor(private readonly opts: CameraManagerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    for (const cfg of this.opts.cameras) {
      if (this.links.has(cfg.id)) throw new CodedError('CAMERA_CONFIG', `camera id ${cfg.id} configured twice`);
      this.links.set(
        cfg.id,
        new CameraLink(cfg, {
          clock: this.clock,
          ...(this.opts.log ? { log: this.opts.log.child({ device: cfg.id, adapter: 'onvif' }) } : {}),
          ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
          ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
          ...(this.opts.heartbeatMs ? { heartbeatMs: this.opts.heartbeatMs } : {}),
          ...(this.opts.eventsRetryMs ? { eventsRetryMs: this.opts.eventsRetryMs } : {}),
          onSignal: (camera, change) => this.onSignal(camera, change),
          onStatus: (camera, status) => this.onStatus(camera, status),
          onEvents: (camera, state) => this.opts.board?.setEvents(camera, state),
        }),
      );
    }
    // One camera that cannot be reached must not hold up the others: each start resolves after its first attempt.
    await Promise.all([...this.links.values()].map((l) => l.start()));
  }

  async stop(): Promise<void> {
    for (const h of this.holds.values()) this.clock.clearTimeout(h);
    this.holds.clear();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    this.links.clear();
    this.reported.clear();
  }

  onEvent(listener: (event: Event) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(camera: string): LinkStatus {
    return this.link(camera).status;
  }

  async deviceInformation(camera: string): Promise<DeviceInformation> {
    return this.link(camera).online().deviceInformation();
  }

  profiles(camera: string): readonly MediaProfile[] {
    this.link(camera).online();
    return this.link(camera).profiles;
  }

  /** The RTSP URI of the profile serving `role` (default the analytics profile). */
  async streamUri(camera: string, role: ProfileRole = 'analytics'): Promise<string> {
    const l = this.link(camera);
    return l.online().streamUri(l.profileFor(role));
  }

  /**
   * The stream URI with the camera's credentials in it, for the frame source (ffmpeg). Cameras hand out
   * RTSP URIs without credentials and then challenge; the logger redacts `user:password@` in URLs.
   */
  async authenticatedStreamUri(camera: string, role: ProfileRole = 'analytics'): Promise<string> {
    const l = this.link(camera);
    const url = new URL(await this.streamUri(camera, role));
    if (l.config.username) {
      url.username = encodeURIComponent(l.config.username);
      url.password = encodeURIComponent(l.config.password ?? '');
    }
    return url.toString();
  }

  async snapshotUri(camera: string): Promise<string> {
    return this.link(camera).snapshotUri();
  }

  async presets(camera: string): Promise<Preset[]> {
    const l = this.link(camera);
    return l.online().presets(l.profileFor('ptz'));
  }

  /** CameraPort: the presets last read from the camera (kept while it is offline), for the drill. */
  knownPresets(camera: string): ReadonlyArray<Preset> | undefined {
    return this.links.get(camera)?.presets;
  }

  /**
   * CameraPort: moves the camera to a preset named by token or name and, where the camera offers PTZ
   * GetStatus, waits until the head is there (CAMERA_PTZ_NOT_CONFIRMED otherwise); fails fast when the
   * camera is offline. Resolves with how the move was confirmed.
   */
  async gotoPreset(camera: string, preset: string): Promise<GotoConfirmation> {
    const l = this.link(camera);
    const session = l.online();
    const token = l.profileFor('ptz');
    const hit = await session.gotoPreset(preset, token);
    return confirmPreset(session, camera, hit, token, { timeoutMs: this.opts.ptzConfirmMs ?? 4000, clock: this.clock });
  }

  /** CameraPort: takes a snapshot, redacts and stores it, and returns the stored reference. */
  async snapshot(camera: string): Promise<{ ref: string }> {
    const l = this.link(camera);
    const at = new Date(this.clock.now());
    const uri = await l.snapshotUri();
    const jpeg = await l.online().fetchSnapshot(uri, this.opts.timeoutMs ?? 5000);
    try {
      return { ref: await this.opts.snapshots.save(camera, jpeg, at) };
    } catch (err) {
      throw classifyCameraError(camera, 'snapshot store', err);
    }
  }

  private link(camera: string): CameraLink {
    const l = this.links.get(camera);
    if (!l) throw new CodedError(CAMERA_UNKNOWN, `no camera ${camera} on this edge`);
    return l;
  }

  private onSignal(camera: string, change: SignalChange): void {
    const { signal, reason } = change;
    const payload: Record<string, unknown> = { active: signal.active, reason, topic: signal.topic, source: signal.source };
    this.publish(camera, `camera.${signal.kind}`, signal.active ? SEVERITY[signal.kind] ?? 'info' : 'info', payload, signal.deviceTime);
  }

  private onStatus(camera: string, status: LinkStatus): void {
    this.opts.board?.setLink(camera, status);
    if (status.state === 'online') {
      // The first online after start is not news; one after an offline waits out the hold.
      if (this.reported.get(camera) !== 'offline') {
        this.reported.set(camera, 'online');
        return;
      }
      if (this.holds.has(camera)) return;
      this.holds.set(camera, this.clock.setTimeout(() => {
        this.holds.delete(camera);
        if (this.links.get(camera)?.status.state !== 'online') return;
        this.reported.set(camera, 'online');
        this.publish(camera, 'camera.online', 'info', {});
      }, this.opts.onlineHoldMs ?? 30_000));
      return;
    }
    if (status.state !== 'offline') return;
    const hold = this.holds.get(camera);
    if (hold !== undefined) {
      this.clock.clearTimeout(hold);
      this.holds.delete(camera);
    }
    // Reported once per outage, whatever the retries' errors: the state board keeps the latest reason.
    if (this.reported.get(camera) === 'offline') return;
    this.reported.set(camera, 'offline');
    this.publish(camera, 'camera.offline', 'major', { code: status.error?.code ?? 'CAMERA_OFFLINE', message: status.error?.message ?? '' });
  }

  private publish(camera: string, kind: string, severity: Severity, payload: Record<string, unknown>, deviceTime?: Date): void {
    const tags = this.links.get(camera)?.config.tags;
    const event: Event = {
      id: randomUUID(),
      site: this.opts.site,
      edge: this.opts.edge,
      device: camera,
      kind,
      severity,
      edgeTime: new Date(this.clock.now()).toISOString(),
      ...(deviceTime ? { deviceTime: deviceTime.toISOString() } : {}),
      ...(tags ? { tags } : {}),
      payload,
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        // A failing listener must not stop the others nor the camera loop.
        this.opts.log?.error({ err, kind }, 'camera event listener failed');
      }
    }
  }
}
