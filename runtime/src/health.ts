/**
 * One health report for a process: each part registers a check that answers its state (up, degraded,
 * down) and why; the report is the worst of them. New parts (a camera, a broker) register themselves,
 * so the report grows without the reporter knowing them (issue 13: health must tell the truth per part).
 */
export type PartState = 'up' | 'degraded' | 'down';

export interface PartHealth {
  state: PartState;
  /** Why it is not up (or a short note when it is). */
  reason?: string;
}

export interface HealthReport {
  status: PartState;
  parts: Record<string, PartHealth>;
}

export type HealthCheck = () => PartHealth | Promise<PartHealth>;

const RANK: Readonly<Record<PartState, number>> = { up: 0, degraded: 1, down: 2 };

export class HealthBoard {
  private readonly checks = new Map<string, HealthCheck>();

  /** Registers (or replaces) a part's check; returns a function that removes it. */
  register(part: string, check: HealthCheck): () => void {
    this.checks.set(part, check);
    return () => {
      if (this.checks.get(part) === check) this.checks.delete(part);
    };
  }

  async report(): Promise<HealthReport> {
    const parts: Record<string, PartHealth> = {};
    let status: PartState = 'up';
    await Promise.all([...this.checks].map(async ([name, check]) => {
      let h: PartHealth;
      try {
        h = await check();
      } catch (err) {
        // A check that throws says nothing good about its part.
        h = { state: 'down', reason: `health check failed: ${(err as Error).message}` };
      }
      parts[name] = h;
    }));
    for (const h of Object.values(parts)) if (RANK[h.state] > RANK[status]) status = h.state;
    return { status, parts: Object.fromEntries(Object.entries(parts).sort(([a], [b]) => a.localeCompare(b))) };
  }
}

/** HTTP status for a report: 200 up or degraded (the body says which), 503 down. */
export const healthHttpStatus = (r: HealthReport): number => (r.status === 'down' ? 503 : 200);
