/**
 * Confirms a goto-preset by reading the PTZ position back (issue #14: "confirmed" used to mean only that the
 * SOAP call returned, and a camera with a failed motor answers GotoPreset just the same). Where the camera
 * offers GetStatus and the preset has a position, the head must arrive and stop there within the time;
 * a camera without GetStatus keeps the old meaning, and says so in the result.
 */
import { CodedError, errorCode, type Clock } from '@safe-community/runtime';
import type { OnvifSession, Preset, PtzPosition } from './onvif-session.js';
import { CAMERA_PROTOCOL } from './errors.js';

export const CAMERA_PTZ_NOT_CONFIRMED = 'CAMERA_PTZ_NOT_CONFIRMED';

/** Generic position space runs −1..1; cameras report back with a little rounding. */
const TOLERANCE = 0.01;
const POLL_MS = 150;

export type GotoConfirmation = 'position' | 'answer';

export async function confirmPreset(session: OnvifSession, camera: string, preset: Preset, profileToken: string | undefined, opts: { timeoutMs: number; clock: Clock }): Promise<GotoConfirmation> {
  const target = preset.position;
  if (!target) return 'answer';
  const deadline = opts.clock.now() + opts.timeoutMs;
  let last: PtzPosition | undefined;
  for (;;) {
    try {
      const status = await session.ptzStatus(profileToken);
      last = status.position;
      if (!status.moving && near(status.position, target)) return 'position';
    } catch (err) {
      // ActionNotSupported and the like: this camera cannot tell where it is.
      if (errorCode(err) === CAMERA_PROTOCOL && last === undefined) return 'answer';
      throw err;
    }
    if (opts.clock.now() >= deadline) {
      const at = last ? `at ${fmt(last)}` : 'position unknown';
      throw new CodedError(CAMERA_PTZ_NOT_CONFIRMED, `camera ${camera}: preset "${preset.name}" not reached within ${opts.timeoutMs} ms (${at}; preset ${fmt(target)})`);
    }
    await new Promise<void>((resolve) => opts.clock.setTimeout(resolve, POLL_MS));
  }
}

function near(a: PtzPosition, b: PtzPosition): boolean {
  return Math.abs(a.x - b.x) <= TOLERANCE && Math.abs(a.y - b.y) <= TOLERANCE && Math.abs(a.zoom - b.zoom) <= TOLERANCE;
}

function fmt(p: PtzPosition): string {
  return `pan ${p.x}, tilt ${p.y}, zoom ${p.zoom}`;
}
