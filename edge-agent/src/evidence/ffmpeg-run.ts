/**
 * Short ffmpeg jobs of the evidence pipeline (cut, probe, decode/encode): spawned with `nice` when they are
 * background work, so the linkage and the analytics always come first on a two-core box.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { CodedError, type ErrorCode, type PassedOnCode } from '@safe-community/runtime';

export interface FfmpegSpawn {
  ffmpegPath?: string;
  /** Run under `nice -n <n>` (background jobs: 19). */
  nice?: number;
}

export function spawnFfmpeg(args: string[], how: FfmpegSpawn, options: SpawnOptions = {}): ChildProcess {
  const ffmpeg = how.ffmpegPath ?? 'ffmpeg';
  return how.nice !== undefined
    ? spawn('nice', ['-n', String(how.nice), ffmpeg, ...args], options)
    : spawn(ffmpeg, args, options);
}

/** Runs ffmpeg to its end; rejects with `code` and the last line of stderr when it fails. */
export function runFfmpeg(args: string[], how: FfmpegSpawn, code: ErrorCode | PassedOnCode): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnFfmpeg(['-hide_banner', '-nostdin', ...args], how, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
    child.once('error', (err) => reject(new CodedError(code, `ffmpeg could not run: ${err.message}`, { cause: err })));
    child.once('exit', (exit, signal) => {
      if (exit === 0) resolve(stderr);
      else reject(new CodedError(code, `ffmpeg failed (${exit ?? signal}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  durationMs: number;
}

/**
 * Size, frame rate and duration of a video file, from ffmpeg's own description of its input (ffprobe is
 * not always installed beside ffmpeg on an edge box).
 */
export async function probeVideo(file: string, how: FfmpegSpawn = {}): Promise<VideoInfo> {
  // Reading the whole file with -c copy gives the true duration even for files without a duration header.
  const text = await runFfmpeg(['-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], how, 'ERR_EVIDENCE_PROBE');
  const stream = /Stream #\d+:\d+.*Video: .*?, (\d{2,5})x(\d{2,5})[^\n]*?, (\d+(?:\.\d+)?) (?:fps|tbr)/.exec(text);
  if (!stream) throw new CodedError('ERR_EVIDENCE_PROBE', `${file}: no video stream found`);
  const fps = Number(stream[3]);
  const seconds = (m: RegExpExecArray | RegExpMatchArray | null | undefined) => (m ? (Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3]) : undefined);
  // The container's duration when it has one (MP4); else the last packet's time plus one frame.
  const header = seconds(/Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(text));
  const lastPacket = seconds([...text.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)].at(-1));
  const durationS = header ?? (lastPacket !== undefined ? lastPacket + 1 / fps : 0);
  return { width: Number(stream[1]), height: Number(stream[2]), fps, durationMs: Math.round(durationS * 1000) };
}
