/**
 * `edge-agent capacity`: how many cameras this box can analyse, from two measurements on real media —
 * the detector's time per frame and ffmpeg's CPU time to decode a stretch of real video — and one figure
 * the installer supplies: the share of frames the motion gate skips on their scenes.
 *
 * Per camera, CPU ms per second = decode ms per video second + fps × inference ms × (1 − skip).
 * Cameras = floor(cores × budget × 1000 / that). Inference runs one intra-op thread per worker, so its
 * wall time on an idle box is its CPU time; the budget (default 80 %) leaves room for the broker, outbox,
 * uplink and the main thread's preprocessing.
 */
import { availableParallelism } from 'node:os';
import { CodedError } from '@safe-community/runtime';
import { measureDecode, type DecodeCost } from './ffmpeg.js';
import { measureInference, type InferenceFigures } from './inference.js';
import { formatTable } from './table.js';
import type { Progress } from './types.js';

export interface CapacityOptions {
  /** Video to decode: a file or an RTSP URL (with credentials). */
  video: string;
  /** Image to time the detector on (JPEG/PNG). */
  image: Buffer;
  imageFrom: string;
  model?: string;
  modelsDir?: string;
  /** Analysis rate per camera; default 5. */
  fps?: number;
  /** Share of frames the motion gate lets pass without detection, 0…1; default 0.5. */
  motionSkip?: number;
  /** Seconds of video to decode; default 5. */
  seconds?: number;
  runs?: number;
  cores?: number;
  /** Share of the cores given to video analysis; default 0.8. */
  cpuBudget?: number;
}

export interface CapacityScenario {
  name: string;
  skip: number;
  cpuMsPerCameraSecond: number;
  cameras: number;
}

export interface CapacityReport {
  cores: number;
  cpuBudget: number;
  fps: number;
  inference: InferenceFigures;
  decode: DecodeCost;
  scenarios: CapacityScenario[];
}

export function planCapacity(input: { inferenceMs: number; decodeMsPerSecond: number; fps: number; cores: number; cpuBudget: number; motionSkip: number }): CapacityScenario[] {
  const { inferenceMs, decodeMsPerSecond, fps, cores, cpuBudget, motionSkip } = input;
  const budgetMs = cores * cpuBudget * 1000;
  const scenario = (name: string, skip: number): CapacityScenario => {
    const perCamera = decodeMsPerSecond + fps * inferenceMs * (1 - skip);
    return { name, skip, cpuMsPerCameraSecond: Math.round(perCamera * 10) / 10, cameras: Math.floor(budgetMs / perCamera) };
  };
  return [scenario('every frame detected', 0), scenario(`motion gate skips ${Math.round(motionSkip * 100)} %`, motionSkip)];
}

export async function runCapacity(opts: CapacityOptions, progress: Progress): Promise<CapacityReport> {
  const fps = opts.fps ?? 5;
  const skip = opts.motionSkip ?? 0.5;
  const cpuBudget = opts.cpuBudget ?? 0.8;
  if (!(fps > 0 && fps <= 60)) throw new CodedError('ERR_USAGE', `--fps must be in (0, 60], got ${fps}`);
  if (!(skip >= 0 && skip < 1)) throw new CodedError('ERR_USAGE', `--motion-skip must be in [0, 1), got ${skip}`);
  if (!(cpuBudget > 0 && cpuBudget <= 1)) throw new CodedError('ERR_USAGE', `--cpu-budget must be in (0, 1], got ${cpuBudget}`);
  const cores = opts.cores ?? availableParallelism();
  const runs = opts.runs ?? 20;

  progress(`[1/2] detector ${opts.model ?? 'yolox'}: ${runs} timed runs on ${opts.imageFrom}`);
  const inference = await measureInference(opts.image, {
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    runs,
    onRun: (i, ms) => {
      if (i === runs || i % 10 === 0) progress(`  run ${i}/${runs}: ${ms.toFixed(1)} ms`);
    },
  });
  progress(`  median ${inference.medianMs} ms, p90 ${inference.p90Ms} ms (${inference.model}, sha256 ${inference.sha256}… verified)`);

  const seconds = opts.seconds ?? 5;
  progress(`[2/2] decode ${seconds} s of video at ${fps} fps, scaled to ${inference.inputWidth}×${inference.inputHeight} as the frame source does…`);
  const decode = await measureDecode(
    opts.video,
    { fps, scale: inference.resize, width: inference.inputWidth, height: inference.inputHeight },
    seconds,
    Math.max(60_000, seconds * 4000),
  );
  progress(`  ${decode.frames} frames, ${decode.cpuSeconds.toFixed(3)} s CPU for ${decode.videoSeconds.toFixed(1)} s of video: ${decode.cpuMsPerVideoSecond.toFixed(1)} ms CPU per camera-second`);

  const scenarios = planCapacity({ inferenceMs: inference.medianMs, decodeMsPerSecond: decode.cpuMsPerVideoSecond, fps, cores, cpuBudget, motionSkip: skip });
  return { cores, cpuBudget, fps, inference, decode, scenarios };
}

export function formatCapacity(r: CapacityReport): string {
  const rows = r.scenarios.map((s) => [s.name, s.cpuMsPerCameraSecond.toFixed(1), String(s.cameras)]);
  return [
    `box: ${r.cores} cores, ${Math.round(r.cpuBudget * 100)} % for video; ${r.fps} fps per camera`,
    `inference ${r.inference.medianMs} ms/frame (${r.inference.model}); decode ${r.decode.cpuMsPerVideoSecond.toFixed(1)} ms CPU per camera-second`,
    '',
    formatTable(['scenario', 'CPU ms per camera-second', `cameras at ${r.fps} fps`], rows),
  ].join('\n');
}
