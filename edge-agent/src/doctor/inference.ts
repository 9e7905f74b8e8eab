/**
 * Loads the detector the way the agent does (weights sha256-checked against the model manifest before
 * onnxruntime sees a byte) and times it on a real image: the figure both `doctor` and `capacity` build on.
 */
import { createDetector, type ImageInput } from '@safe-community/analytics';

export interface InferenceFigures {
  model: string;
  /** First 12 hex digits of the verified sha256, for the installer's record. */
  sha256: string;
  inputWidth: number;
  inputHeight: number;
  /** How the model wants frames scaled; the decode measurement uses the same so its cost is the real one. */
  resize: 'letterbox' | 'stretch';
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  /** Detections at or above `countScore` in the last run (a sanity figure: a street scene should find something). */
  detections: number;
  labels: string[];
  /** The score the count uses, and how many weaker boxes were left out of it. */
  countScore: number;
  belowScore: number;
}

export interface MeasureInferenceOptions {
  model?: string;
  modelsDir?: string;
  runs?: number;
  /** Untimed runs first: the first session.run allocates and is not what a camera sees. */
  warmup?: number;
  /** Called after each timed run (progress lines). */
  onRun?: (i: number, ms: number) => void;
  /**
   * Only boxes this confident are counted in the summary; default 0.5, the tracker's high score, below which
   * the agent never starts a track (issue #14: doctor reported "sports ball" on a pedestrian scene).
   */
  countScore?: number;
}

/** The detector's full per-frame path (prepare → session.run in a worker → decode) timed `runs` times. */
export async function measureInference(image: ImageInput, opts: MeasureInferenceOptions = {}): Promise<InferenceFigures> {
  const det = createDetector({ model: opts.model ?? 'yolox', ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}) });
  await det.start();
  try {
    const m = det.manifest;
    for (let i = 0; i < (opts.warmup ?? 2); i++) await det.detect(image);
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof det.detect>> = [];
    const runs = Math.max(1, opts.runs ?? 10);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      last = await det.detect(image);
      const ms = performance.now() - t0;
      times.push(ms);
      opts.onRun?.(i + 1, ms);
    }
    times.sort((a, b) => a - b);
    const countScore = opts.countScore ?? 0.5;
    const counted = last.filter((d) => d.score >= countScore);
    return {
      model: m.id,
      sha256: m.sha256.slice(0, 12),
      inputWidth: m.input.shape[3] ?? 0,
      inputHeight: m.input.shape[2] ?? 0,
      resize: m.input.resize === 'letterbox' ? 'letterbox' : 'stretch',
      runs,
      medianMs: round(quantile(times, 0.5)),
      p90Ms: round(quantile(times, 0.9)),
      minMs: round(times[0] ?? 0),
      detections: counted.length,
      labels: [...new Set(counted.map((d) => d.label))],
      countScore,
      belowScore: last.length - counted.length,
    };
  } finally {
    await det.stop();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
