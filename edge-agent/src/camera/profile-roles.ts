/**
 * Which media profile serves which job (issue #14, "profile roles"): decoding 4–8 MP main streams on two
 * cores to feed a 416-pixel detector wastes most of the box, while snapshots and recordings want the full
 * picture. Each role has a default, and the installer may name a profile token per role.
 *
 *   analytics  the smallest profile whose longer side still reaches the detector's input (no upscaling);
 *              the largest when none does
 *   snapshot   the main profile: the largest picture (also what recording would use)
 *   ptz        the main profile when it carries a PTZ configuration, else the first one that does
 *   recording  the evidence ring buffer (issue #16): the snapshot profile unless named, i.e. the main one
 */
import { CodedError } from '@safe-community/runtime';
import type { MediaProfile } from './onvif-session.js';

export type ProfileRole = 'analytics' | 'snapshot' | 'ptz' | 'recording';

export interface ProfileChoice {
  /** Configured token per role; a role not named falls back to `profileToken`, then to its default. */
  analytics?: string;
  snapshot?: string;
  ptz?: string;
  recording?: string;
  /** One token for every role (the older single setting). */
  profileToken?: string;
}

/** The detector's input side in pixels (the agent decodes at 416×416, YOLOX-Nano's input). */
export const ANALYTICS_INPUT = 416;

export function chooseProfile(profiles: readonly MediaProfile[], role: ProfileRole, choice: ProfileChoice = {}, camera = 'camera', input = ANALYTICS_INPUT): string | undefined {
  const named = choice[role] ?? (role === 'recording' ? choice.snapshot : undefined) ?? choice.profileToken;
  if (named !== undefined) {
    // A token the camera does not have is an installer's typo: say so rather than stream something else.
    if (profiles.length > 0 && !profiles.some((p) => p.token === named)) {
      throw new CodedError('CAMERA_CONFIG', `camera ${camera}: no media profile "${named}" for ${role} (has ${profiles.map((p) => p.token).join(', ')})`);
    }
    return named;
  }
  if (profiles.length === 0) return undefined;
  const area = (p: MediaProfile) => (p.width ?? 0) * (p.height ?? 0);
  // Stable: among equals the camera's own order wins (its first profile is usually its main one).
  const bySizeDesc = [...profiles].sort((a, b) => area(b) - area(a));
  const main = bySizeDesc[0]!;
  if (role === 'snapshot' || role === 'recording') return main.token;
  if (role === 'ptz') return (main.ptz ? main : profiles.find((p) => p.ptz) ?? main).token;
  const enough = profiles.filter((p) => Math.max(p.width ?? 0, p.height ?? 0) >= input).sort((a, b) => area(a) - area(b));
  return (enough[0] ?? main).token;
}
