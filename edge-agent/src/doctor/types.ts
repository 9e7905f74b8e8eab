/** What each doctor check reports; the summary table and the exit code are built from these alone. */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'not checked';

export interface CheckResult {
  /** Short, stable name, e.g. "camera cam-1", "model", "uplink". */
  name: string;
  status: CheckStatus;
  /** One line for the installer: what was found, or what to fix. */
  detail: string;
  /** Measured numbers (ms, bytes, seconds), for scripts reading --json. */
  figures?: Record<string, number>;
  /** The CodedError code when the check failed on an error. */
  code?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

/** Progress lines while long steps run (decode, inference). */
export type Progress = (line: string) => void;
