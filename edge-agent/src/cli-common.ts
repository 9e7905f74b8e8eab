/** What every `edge-agent` command shares: the io seam, exit codes, config loading, and asking the running agent. */
import { CodedError } from '@safe-community/runtime';
import { applyEnv, loadEdgeConfig, readConfigFile, type EdgeConfig } from './config.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /**
   * Asks the installer for a value (init). Absent: a terminal prompt when stdin is a TTY, otherwise
   * missing values are a usage error, so scripts never hang on a question.
   */
  prompt?(question: string, defaultValue?: string): Promise<string>;
  /** Whether questions may be asked at all; default: a prompt was given or stdin is a TTY. */
  interactive?: boolean;
}

export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): EdgeConfig {
  const file = path ?? env.EDGE_CONFIG;
  const raw = file ? readConfigFile(file) : {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CodedError('ERR_CONFIG', `edge config ${file} must be a mapping of keys`);
  return loadEdgeConfig(applyEnv(raw as Record<string, unknown>, env));
}

/** GET on the running agent's admin endpoint; null when no agent answers (not running, admin off). */
export async function askAgent<T>(cfg: EdgeConfig, path: string): Promise<T | null> {
  if (!cfg.admin.enabled || cfg.admin.port === 0) return null;
  try {
    const res = await fetch(`http://${cfg.admin.host === '0.0.0.0' ? '127.0.0.1' : cfg.admin.host}:${cfg.admin.port}${path}`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok && res.status !== 503) throw new CodedError('ERR_ADMIN', `agent answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  } catch (err) {
    if (err instanceof CodedError) throw err;
    return null;
  }
}

/** A numeric flag, or undefined when absent; anything else is a usage error naming the flag. */
export function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CodedError('ERR_USAGE', `--${flag} must be a number (got "${value}")`);
  return n;
}
