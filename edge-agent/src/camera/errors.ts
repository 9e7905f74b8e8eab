/**
 * Stable error codes of the camera part. The onvif package reports failures as plain Errors with the
 * SOAP fault reason or a Node network code in them; `classifyCameraError` turns those into the few
 * outcomes an installer and the linkage engine act on.
 */
import { CodedError } from '@safe-community/runtime';

export const CAMERA_AUTH_FAILED = 'CAMERA_AUTH_FAILED';
export const CAMERA_OFFLINE = 'CAMERA_OFFLINE';
export const CAMERA_TIMEOUT = 'CAMERA_TIMEOUT';
export const CAMERA_PROTOCOL = 'CAMERA_PROTOCOL';
export const CAMERA_UNKNOWN = 'CAMERA_UNKNOWN';
export const CAMERA_NO_PRESET = 'CAMERA_NO_PRESET';
export const CAMERA_SNAPSHOT = 'CAMERA_SNAPSHOT';
export const CAMERA_DISCOVERY = 'CAMERA_DISCOVERY';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** Wraps any failure of a camera call into a CodedError with one of the codes above; the cause is kept. */
export function classifyCameraError(camera: string, what: string, err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (/Security.{0,40}must be understood|MustUnderstand/i.test(message)) {
    // A camera without authentication that cannot process a WS-Security header at all (issue #14, gSOAP).
    return new CodedError(CAMERA_AUTH_FAILED, `camera ${camera}: ${what} refused: the camera does not accept WS-Security credentials; if it has no authentication, leave username empty`, { cause: err });
  }
  if (/not ?authori[sz]ed|unauthori[sz]ed|authentication failed|sender not authorized/i.test(message)) {
    return new CodedError(CAMERA_AUTH_FAILED, `camera ${camera}: ${what} refused: authentication failed (check username and password)`, { cause: err });
  }
  if (NETWORK_CODES.has(code) || /socket hang up/i.test(message)) {
    return new CodedError(CAMERA_OFFLINE, `camera ${camera}: ${what} failed: camera offline (${code || message})`, { cause: err });
  }
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return new CodedError(CAMERA_TIMEOUT, `camera ${camera}: ${what} timed out`, { cause: err });
  }
  return new CodedError(CAMERA_PROTOCOL, `camera ${camera}: ${what} failed: ${message}`, { cause: err });
}
