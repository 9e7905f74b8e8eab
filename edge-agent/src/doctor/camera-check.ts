/**
 * Is a configured camera usable? Two steps, as the agent uses it: ONVIF (WS-Security login, device
 * information, the stream URI of the media profile) and then ffmpeg pulling a frame from that URI with the
 * camera's credentials (or from the configured `stream`, which overrides the ONVIF URI). A camera that answers ONVIF but whose stream does not decode is a failure: the
 * detector would never see a frame.
 */
import { errorCode, redactUrl } from '@safe-community/runtime';
import { OnvifSession } from '../camera/index.js';
import type { EdgeCamera } from '../config.js';
import { grabFrame } from './ffmpeg.js';
import type { CheckResult, Progress } from './types.js';

export interface CameraCheck {
  result: CheckResult;
  /** The decoded frame (JPEG), when the stream played: doctor times the model on it. */
  frame?: Buffer;
  /** Stream URI with credentials, for capacity's decode measurement. */
  streamUri?: string;
}

export async function checkCamera(cam: EdgeCamera, progress: Progress, timeoutMs = 5000): Promise<CameraCheck> {
  const name = `camera ${cam.id}`;
  let uri = cam.stream;
  let what = '';
  let onvifMs: number | undefined;
  if (cam.hostname) {
    const t0 = performance.now();
    const session = new OnvifSession({
      camera: cam.id,
      endpoint: { hostname: cam.hostname, port: cam.port, path: cam.path, username: cam.username, password: cam.password },
      timeoutMs,
    });
    try {
      progress(`  ${name}: ONVIF ${cam.hostname}:${cam.port}…`);
      await session.connect();
      const info = await session.deviceInformation();
      what = [info.manufacturer, info.model, info.firmwareVersion && `fw ${info.firmwareVersion}`].filter(Boolean).join(' ');
      // A configured stream overrides the ONVIF stream URI (the agent does the same); ONVIF is still checked.
      if (!uri) {
        const url = new URL(await session.streamUri(cam.profileToken));
        url.username = encodeURIComponent(cam.username);
        url.password = encodeURIComponent(cam.password);
        uri = url.toString();
      }
    } catch (err) {
      return { result: { name, status: 'fail', code: errorCode(err), detail: `ONVIF: ${redactUrl((err as Error).message)}` } };
    } finally {
      session.close();
    }
    onvifMs = performance.now() - t0;
  }
  if (!uri) return { result: { name, status: 'fail', code: 'ERR_CONFIG', detail: 'neither hostname (ONVIF) nor stream configured' } };
  try {
    progress(`  ${name}: ${what ? `${what} answers; ` : ''}pulling a frame from ${redactUrl(uri)}…`);
    const t1 = performance.now();
    const frame = await grabFrame(uri, { timeoutMs: Math.max(timeoutMs * 3, 10_000) });
    const frameMs = performance.now() - t1;
    return {
      result: {
        name, status: 'ok',
        detail: `${what || (cam.hostname ? 'ONVIF camera' : 'stream only, no ONVIF')}; stream decodes (${redactUrl(uri)})`,
        figures: { ...(onvifMs !== undefined ? { onvifMs: Math.round(onvifMs) } : {}), firstFrameMs: Math.round(frameMs), frameBytes: frame.length },
      },
      frame,
      streamUri: uri,
    };
  } catch (err) {
    const before = cam.hostname ? `ONVIF ok (${what}), ` : '';
    return { result: { name, status: 'fail', code: errorCode(err), detail: `${before}stream does not decode: ${redactUrl((err as Error).message)}` }, streamUri: uri };
  }
}
