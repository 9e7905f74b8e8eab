/**
 * Is a configured camera usable, the way the agent will use it? (issue #14: doctor passed a camera that
 * then flapped, because it checked only login and one stream.) Per camera:
 *
 *   camera <id>           ONVIF login (WS-Security, or none without a username), device information, and the
 *                         analytics stream decoding a frame (or the configured `stream`, which overrides it)
 *   … profiles            the media profiles and which serves analytics, snapshots, PTZ; each other role's
 *                         stream decodes too
 *   … snapshot            the snapshot URI answers a JPEG with the camera's credentials
 *   … events              PullPoint: subscribe, pull once, unsubscribe; a camera without usable events is a
 *                         warning (the agent watches it by heartbeat), not a failure
 *   … presets             every preset the linkage rules may send it to exists on the camera
 */
import { errorCode, redactUrl } from '@safe-community/runtime';
import { OnvifSession, chooseProfile, type MediaProfile, type ProfileRole } from '../camera/index.js';
import type { EdgeCamera } from '../config.js';
import { grabFrame } from './ffmpeg.js';
import type { CheckResult, Progress } from './types.js';

export interface CameraCheck {
  /** The main result first (`camera <id>`), then the detail checks. */
  results: CheckResult[];
  /** The decoded frame (JPEG), when the stream played: doctor times the model on it. */
  frame?: Buffer;
  /** Stream URI with credentials, for capacity's decode measurement. */
  streamUri?: string;
}

export interface CameraCheckOptions {
  timeoutMs?: number;
  /** Presets the linkage rules name for this camera. */
  presets?: ReadonlyArray<{ rule: string; preset: string }>;
}

const ROLES: readonly ProfileRole[] = ['analytics', 'snapshot', 'ptz'];

export async function checkCamera(cam: EdgeCamera, progress: Progress, opts: CameraCheckOptions = {}): Promise<CameraCheck> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const name = `camera ${cam.id}`;
  if (!cam.hostname) {
    if (!cam.stream) return { results: [{ name, status: 'fail', code: 'ERR_CONFIG', detail: 'neither hostname (ONVIF) nor stream configured' }] };
    const decoded = await decode(name, cam.stream, 'stream only, no ONVIF', progress, timeoutMs);
    return { results: [decoded.result], ...(decoded.frame ? { frame: decoded.frame } : {}), streamUri: cam.stream };
  }
  const session = new OnvifSession({
    camera: cam.id,
    endpoint: { hostname: cam.hostname, port: cam.port, path: cam.path, username: cam.username, password: cam.password },
    timeoutMs,
  });
  try {
    const t0 = performance.now();
    let what: string;
    let profiles: MediaProfile[];
    const tokens: Partial<Record<ProfileRole, string>> = {};
    try {
      progress(`  ${name}: ONVIF ${cam.hostname}:${cam.port}…`);
      await session.connect();
      const info = await session.deviceInformation();
      what = [info.manufacturer, info.model, info.firmwareVersion && `fw ${info.firmwareVersion}`].filter(Boolean).join(' ');
      profiles = await session.profiles();
      const choice = { ...cam.profiles, ...(cam.profileToken ? { profileToken: cam.profileToken } : {}) };
      for (const role of ROLES) tokens[role] = chooseProfile(profiles, role, choice, cam.id);
    } catch (err) {
      return { results: [{ name, status: 'fail', code: errorCode(err), detail: `ONVIF: ${redactUrl((err as Error).message)}` }] };
    }
    const onvifMs = performance.now() - t0;
    const uriOf = async (token: string | undefined) => withCredentials(await session.streamUri(token), cam);
    // A configured stream overrides the ONVIF stream URI for analytics (the agent does the same).
    let uri: string;
    try {
      uri = cam.stream ?? (await uriOf(tokens.analytics));
    } catch (err) {
      return { results: [{ name, status: 'fail', code: errorCode(err), detail: `ONVIF ok (${what}), no stream URI: ${redactUrl((err as Error).message)}` }] };
    }
    const main = await decode(name, uri, `${what}; analytics profile ${tokens.analytics ?? '-'}`, progress, timeoutMs);
    main.result.figures = { onvifMs: Math.round(onvifMs), ...main.result.figures };
    const results = [main.result, await profilesCheck(name, profiles, tokens, uriOf, progress, timeoutMs), await snapshotCheck(name, session, tokens.snapshot, timeoutMs)];
    results.push(cam.events === false
      ? { name: `${name} events`, status: 'not checked', detail: 'events off in the config (heartbeat only)' }
      : await eventsCheck(name, session));
    results.push(await presetsCheck(name, session, tokens.ptz, opts.presets ?? []));
    return { results, ...(main.frame ? { frame: main.frame } : {}), streamUri: uri };
  } finally {
    session.close();
  }
}

async function decode(name: string, uri: string, what: string, progress: Progress, timeoutMs: number): Promise<{ result: CheckResult; frame?: Buffer }> {
  try {
    progress(`  ${name}: pulling a frame from ${redactUrl(uri)}…`);
    const t1 = performance.now();
    const frame = await grabFrame(uri, { timeoutMs: Math.max(timeoutMs * 3, 10_000) });
    return {
      result: { name, status: 'ok', detail: `${what}; stream decodes (${redactUrl(uri)})`, figures: { firstFrameMs: Math.round(performance.now() - t1), frameBytes: frame.length } },
      frame,
    };
  } catch (err) {
    return { result: { name, status: 'fail', code: errorCode(err), detail: `${what}; stream does not decode: ${redactUrl((err as Error).message)}` } };
  }
}

async function profilesCheck(name: string, profiles: readonly MediaProfile[], tokens: Partial<Record<ProfileRole, string>>, uriOf: (token: string | undefined) => Promise<string>, progress: Progress, timeoutMs: number): Promise<CheckResult> {
  const list = profiles.map((p) => `${p.token} ${p.width ?? '?'}×${p.height ?? '?'} ${p.encoding ?? '?'}${p.fps ? ` ${p.fps} fps` : ''}${p.ptz ? ' PTZ' : ''}`).join('; ');
  const roles = ROLES.map((r) => `${r} → ${tokens[r] ?? '-'}`).join(', ');
  // The analytics stream was decoded above; every other profile a role uses must decode too.
  const others = [...new Set([tokens.snapshot, tokens.ptz])].filter((t): t is string => t !== undefined && t !== tokens.analytics);
  for (const token of others) {
    const decoded = await decode(name, await uriOf(token).catch(() => ''), `profile ${token}`, progress, timeoutMs);
    if (decoded.result.status !== 'ok') return { name: `${name} profiles`, status: 'fail', code: decoded.result.code ?? 'ERR_STREAM', detail: `${roles}: ${decoded.result.detail}` };
  }
  return { name: `${name} profiles`, status: 'ok', detail: `${roles}; ${list}` };
}

async function snapshotCheck(name: string, session: OnvifSession, token: string | undefined, timeoutMs: number): Promise<CheckResult> {
  try {
    const jpeg = await session.fetchSnapshot(await session.snapshotUri(token), timeoutMs);
    return { name: `${name} snapshot`, status: 'ok', detail: `JPEG of ${jpeg.length} bytes from profile ${token ?? '-'}`, figures: { bytes: jpeg.length } };
  } catch (err) {
    return { name: `${name} snapshot`, status: 'fail', code: errorCode(err), detail: redactUrl((err as Error).message) };
  }
}

async function eventsCheck(name: string, session: OnvifSession): Promise<CheckResult> {
  const check = `${name} events`;
  if (!session.hasEventsService) return { name: check, status: 'warn', detail: 'no events service: the agent watches this camera by heartbeat (no camera motion/tamper events)' };
  try {
    await session.createPullPoint();
  } catch (err) {
    return { name: check, status: 'warn', code: errorCode(err), detail: `CreatePullPointSubscription failed (${redactUrl((err as Error).message)}): the agent treats events as unsupported and watches it by heartbeat` };
  }
  try {
    const n = await session.pullOnce(1);
    await session.unsubscribe();
    return { name: check, status: 'ok', detail: `subscribed, pulled once (${n} notification${n === 1 ? '' : 's'}), unsubscribed` };
  } catch (err) {
    return { name: check, status: 'fail', code: errorCode(err), detail: `subscribed but ${redactUrl((err as Error).message)}` };
  }
}

async function presetsCheck(name: string, session: OnvifSession, token: string | undefined, named: ReadonlyArray<{ rule: string; preset: string }>): Promise<CheckResult> {
  const check = `${name} presets`;
  if (named.length === 0) return { name: check, status: 'not checked', detail: 'no linkage rule sends this camera to a preset' };
  try {
    const have = await session.presets(token);
    const unknown = named.filter((n) => !have.some((p) => p.name === n.preset || p.token === n.preset));
    if (unknown.length > 0) {
      return { name: check, status: 'fail', code: 'CAMERA_NO_PRESET', detail: `${unknown.map((u) => `"${u.preset}" (rule ${u.rule})`).join(', ')} not on the camera (has ${have.map((p) => p.name).join(', ') || 'none'})` };
    }
    return { name: check, status: 'ok', detail: `${named.map((n) => n.preset).join(', ')} present` };
  } catch (err) {
    return { name: check, status: 'fail', code: errorCode(err), detail: redactUrl((err as Error).message) };
  }
}

function withCredentials(uri: string, cam: EdgeCamera): string {
  if (!cam.username) return uri;
  const url = new URL(uri);
  url.username = encodeURIComponent(cam.username);
  url.password = encodeURIComponent(cam.password);
  return url.toString();
}
