/**
 * The care monitor's memory across restarts: per resident, what is pending (a fall waiting for I'm OK, a
 * vital sign out of range but not yet for long enough), what is latched (an alarm already raised and not
 * yet re-armed) and when the wearable was last heard. Kept in one small JSON file, written atomically
 * (temp file, fsync, rename, fsync of the folder), so a power cut leaves the old file or the new one.
 */
import { readFile, rename } from 'node:fs/promises';
import { CodedError, writeAtomic, type Logger } from '@safe-community/runtime';

export interface Fix {
  at: number;
  lat: number;
  lon: number;
  inside: boolean;
}

export type VitalLevel = 'normal' | 'low' | 'high';

export interface VitalState {
  level: VitalLevel;
  /** Out of range in this direction since `since`, not yet for the minimum duration. */
  pending?: { dir: 'low' | 'high'; since: number };
  last?: number;
}

export interface ResidentState {
  lastSeenAt: number;
  silentRaised: boolean;
  batteryLow: boolean;
  lastActivityAt: number;
  /** lastActivityAt of the quiet spell already alarmed, so the same spell is alarmed once. */
  inactivityRaisedFor?: number;
  lastSteps?: number;
  activityFix?: { lat: number; lon: number };
  sosAt?: number;
  pendingFall?: { at: number; deadline: number; eventId: string };
  fallRaisedAt?: number;
  inside?: boolean;
  crossings: number[];
  wandering: boolean;
  positions: Fix[];
  vitals: { heart_rate: VitalState; spo2: VitalState };
  episode?: { id: string; startedAt: number; lastAt: number };
}

export interface CareState {
  version: 1;
  residents: Record<string, ResidentState>;
}

export function freshResidentState(now: number): ResidentState {
  return {
    lastSeenAt: now, silentRaised: false, batteryLow: false, lastActivityAt: now, crossings: [], wandering: false, positions: [],
    vitals: { heart_rate: { level: 'normal' }, spo2: { level: 'normal' } },
  };
}

export class CareStateFile {
  constructor(private readonly file: string, private readonly log: Logger) {}

  /** The saved state, or an empty one. A file that cannot be parsed is moved aside and reported. */
  async load(): Promise<CareState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, residents: {} };
      throw new CodedError('ERR_CARE_STATE', `cannot read care state ${this.file}`, { cause: err });
    }
    try {
      const v = JSON.parse(text) as CareState;
      if (v?.version !== 1 || typeof v.residents !== 'object' || v.residents === null) throw new Error('not a care state document');
      return v;
    } catch (err) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      this.log.error({ err, aside }, 'care state unreadable; moved aside, starting fresh');
      await rename(this.file, aside);
      return { version: 1, residents: {} };
    }
  }

  /** Writes the state; a failure is logged (the next write retries with newer state), never thrown. */
  async save(state: CareState): Promise<void> {
    try {
      await writeAtomic(this.file, JSON.stringify(state));
    } catch (err) {
      this.log.error({ err, code: (err as NodeJS.ErrnoException).code }, 'could not save care state');
    }
  }
}

