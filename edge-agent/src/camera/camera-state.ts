/**
 * What each camera is doing right now, in one place: its ONVIF link (control, events) and its video stream
 * (frames reaching the analytics) folded into one state an installer and the health report can read, with
 * the reason and since when (issue #14: "every camera has a state … with the reason and since when").
 *
 *   connecting   — not yet reached since start (link connecting, or stream not yet delivering)
 *   online       — everything configured for it works
 *   degraded     — reachable, but part of it does not work (stream lost while ONVIF answers)
 *   offline      — not reachable (network, timeouts, protocol), retried for ever with capped backoff
 *   unauthorized — reachable but refuses the credentials; also retried, since an installer may fix it
 */
import { systemClock, type Clock } from '@safe-community/runtime';
import type { LinkStatus } from './camera-link.js';
import { CAMERA_AUTH_FAILED } from './errors.js';

export type CameraState = 'connecting' | 'online' | 'degraded' | 'offline' | 'unauthorized';
export type StreamState = 'starting' | 'flowing' | 'lost';
export type EventsState = 'off' | 'subscribed' | 'unsupported';

export interface CameraHealth {
  camera: string;
  state: CameraState;
  /** Why it is not online (empty when online). */
  reason: string;
  /** Error code behind the reason, when there is one (CAMERA_OFFLINE, ERR_STREAM_LOST…). */
  code?: string;
  /** ISO time the state was entered. */
  since: string;
  /** The ONVIF link's own state; absent for a stream-only camera. */
  link?: LinkStatus['state'];
  /** The analysed stream's state; absent when the camera is not analysed. */
  stream?: StreamState;
  /** PullPoint events: subscribed, off by config, or unsupported by the camera (served by heartbeat). */
  events?: EventsState;
}

interface Entry {
  link?: LinkStatus;
  stream?: { state: StreamState; code?: string; reason?: string };
  events?: EventsState;
  derived: { state: CameraState; reason: string; code?: string; since: number };
}

export class CameraStateBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(h: CameraHealth) => void>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Declares a camera and what it has: an ONVIF link, an analysed stream, or both. */
  register(camera: string, has: { link: boolean; stream: boolean; events?: boolean }): void {
    const entry: Entry = { derived: { state: 'connecting', reason: 'starting', since: this.clock.now() } };
    if (has.link) {
      entry.link = { state: 'connecting', since: this.clock.now() };
      // Unknown until the link has asked the camera (then subscribed or unsupported).
      if (has.events === false) entry.events = 'off';
    }
    if (has.stream) entry.stream = { state: 'starting' };
    this.entries.set(camera, entry);
  }

  setLink(camera: string, status: LinkStatus): void {
    const e = this.entries.get(camera);
    if (!e) return;
    e.link = status;
    this.derive(camera, e);
  }

  setStream(camera: string, state: StreamState, why?: { code?: string; reason?: string }): void {
    const e = this.entries.get(camera);
    if (!e) return;
    e.stream = { state, ...(why?.code ? { code: why.code } : {}), ...(why?.reason ? { reason: why.reason } : {}) };
    this.derive(camera, e);
  }

  setEvents(camera: string, state: EventsState): void {
    const e = this.entries.get(camera);
    if (e) e.events = state;
  }

  /** Called on every change of a camera's derived state. */
  onChange(listener: (h: CameraHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(camera: string): boolean {
    return this.entries.has(camera);
  }

  get(camera: string): CameraHealth | undefined {
    const e = this.entries.get(camera);
    return e ? this.view(camera, e) : undefined;
  }

  list(): CameraHealth[] {
    return [...this.entries.entries()].map(([id, e]) => this.view(id, e)).sort((a, b) => a.camera.localeCompare(b.camera));
  }

  /** Whether camera actions (presets, snapshots) can be tried: the ONVIF link is up, whatever the stream does. */
  controllable(camera: string): boolean {
    return this.entries.get(camera)?.link?.state === 'online';
  }

  private view(camera: string, e: Entry): CameraHealth {
    const d = e.derived;
    return {
      camera, state: d.state, reason: d.reason, since: new Date(d.since).toISOString(),
      ...(d.code ? { code: d.code } : {}),
      ...(e.link ? { link: e.link.state } : {}),
      ...(e.stream ? { stream: e.stream.state } : {}),
      ...(e.events ? { events: e.events } : {}),
    };
  }

  private derive(camera: string, e: Entry): void {
    const next = fold(e);
    const prev = e.derived;
    if (prev.state === next.state && prev.reason === next.reason) return;
    e.derived = { ...next, since: prev.state === next.state ? prev.since : this.clock.now() };
    const view = this.view(camera, e);
    for (const l of this.listeners) l(view);
  }
}

/** The link decides reachability; the stream can only lower an otherwise online camera to degraded. */
function fold(e: Entry): { state: CameraState; reason: string; code?: string } {
  const link = e.link;
  if (link && link.state !== 'online') {
    const code = link.error?.code;
    const reason = link.error?.message ?? (link.state === 'connecting' ? 'connecting' : link.state);
    // A retry after a failure (connecting, with the last error kept) is still that failure: the state and its
    // "since" must not flip to connecting and back on every backoff round.
    if (link.state === 'offline' || link.state === 'stopped' || link.error) {
      return { state: code === CAMERA_AUTH_FAILED ? 'unauthorized' : 'offline', reason, ...(code ? { code } : {}) };
    }
    return { state: 'connecting', reason, ...(code ? { code } : {}) };
  }
  const stream = e.stream;
  if (stream?.state === 'lost') {
    const reason = stream.reason ?? 'no frames from the stream';
    // With no ONVIF link the stream is all there is: losing it is losing the camera.
    return { state: link ? 'degraded' : 'offline', reason, code: stream.code ?? 'ERR_STREAM_LOST' };
  }
  if (stream?.state === 'starting' && !link) return { state: 'connecting', reason: 'waiting for the first frame' };
  return { state: 'online', reason: '' };
}
