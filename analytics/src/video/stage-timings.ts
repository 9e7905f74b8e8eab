/** Per-stage timing figures over a sliding window, so a long-running camera reports recent behaviour. */

export type Stage = 'gate' | 'detect' | 'track' | 'rules' | 'total';
export const STAGES: readonly Stage[] = ['gate', 'detect', 'track', 'rules', 'total'];

export interface StageSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export class StageTimings {
  private readonly rings = new Map<Stage, { buf: Float64Array; n: number }>();

  constructor(private readonly window = 1024) {}

  record(stage: Stage, ms: number): void {
    let r = this.rings.get(stage);
    if (!r) this.rings.set(stage, (r = { buf: new Float64Array(this.window), n: 0 }));
    r.buf[r.n % this.window] = ms;
    r.n++;
  }

  summary(): Partial<Record<Stage, StageSummary>> {
    const out: Partial<Record<Stage, StageSummary>> = {};
    for (const [stage, r] of this.rings) {
      const vals = Array.from(r.buf.subarray(0, Math.min(r.n, this.window))).sort((a, b) => a - b);
      out[stage] = {
        count: r.n,
        meanMs: round(vals.reduce((s, v) => s + v, 0) / (vals.length || 1)),
        p50Ms: round(percentile(vals, 0.5)),
        p99Ms: round(percentile(vals, 0.99)),
      };
    }
    return out;
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
