/**
 * The two ffmpeg runs the installer checks need: pull one frame from a stream as JPEG (is the camera
 * decodable?) and decode a stretch of video the way the frame source does, timing the CPU it costs.
 * Both are short-lived processes with a hard timeout; credentials in URLs never reach an error message.
 */
import { spawn } from 'node:child_process';
import { CodedError, redactUrl } from '@safe-community/runtime';
import { buildArgs, presetFor, type DecodeSettings } from '@safe-community/analytics/video';

export const ERR_FFMPEG = 'ERR_DOCTOR_FFMPEG';

interface RunResult {
  stdout: Buffer[];
  stdoutBytes: number;
  stderr: string;
}

/** Runs ffmpeg to completion; keeps stdout only when `keep` (a decode run only counts bytes). */
function runFfmpeg(args: string[], timeoutMs: number, keep: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: RunResult = { stdout: [], stdoutBytes: 0, stderr: '' };
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      out.stdoutBytes += b.length;
      if (keep) out.stdout.push(b);
    });
    // Only the tail matters (the benchmark line, the error); bound it so a chatty decoder cannot grow it.
    child.stderr.on('data', (b: Buffer) => {
      out.stderr = (out.stderr + b.toString('utf8')).slice(-8000);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new CodedError(ERR_FFMPEG, `ffmpeg could not start: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out);
      const why = signal ? `killed after ${timeoutMs} ms` : `exited with ${code}`;
      const tail = redactUrl(out.stderr.trim().split('\n').slice(-3).join(' | '));
      reject(new CodedError(ERR_FFMPEG, `ffmpeg ${why}: ${tail}`));
    });
  });
}

/** One frame of `input` (RTSP URL or file) as a JPEG. */
export async function grabFrame(input: string, opts: { timeoutMs?: number; seekSeconds?: number } = {}): Promise<Buffer> {
  const live = /^rtsps?:\/\//i.test(input);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
  if (live) args.push('-rtsp_transport', 'tcp');
  if (!live && opts.seekSeconds) args.push('-ss', String(opts.seekSeconds));
  args.push('-i', input, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-');
  const r = await runFfmpeg(args, opts.timeoutMs ?? 15_000, true);
  const jpeg = Buffer.concat(r.stdout);
  if (jpeg.length === 0) throw new CodedError(ERR_FFMPEG, `ffmpeg produced no frame from ${redactUrl(input)}`);
  return jpeg;
}

export interface DecodeCost {
  /** Frames written at the analysis rate. */
  frames: number;
  /** Seconds of video decoded (frames / fps). */
  videoSeconds: number;
  /** ffmpeg's own user + system CPU seconds (-benchmark). */
  cpuSeconds: number;
  /** Wall-clock seconds ffmpeg ran. */
  wallSeconds: number;
  /** CPU milliseconds one camera costs per second of video: the decode share of a core. */
  cpuMsPerVideoSecond: number;
}

const BENCH = /bench:\s*utime=([\d.]+)s\s+stime=([\d.]+)s\s+rtime=([\d.]+)s/;

/**
 * Decodes `seconds` of `input` with the frame source's own preset (fps filter, scale to the model input,
 * rgb24), as fast as it goes, and reads ffmpeg's CPU time. Decoding is most of a camera's fixed cost:
 * every source frame is decoded even when only `fps` of them reach the detector.
 */
export async function measureDecode(input: string, settings: DecodeSettings, seconds: number, timeoutMs = 60_000): Promise<DecodeCost> {
  const preset = presetFor(input);
  const a = buildArgs(preset, input, settings);
  const args = ['-benchmark', ...a.inputOptions, '-t', String(seconds), '-i', a.input, ...a.outputOptions, '-'];
  const r = await runFfmpeg(args, timeoutMs, false);
  const m = BENCH.exec(r.stderr);
  if (!m) throw new CodedError(ERR_FFMPEG, `ffmpeg printed no benchmark line for ${redactUrl(input)}`);
  const frameBytes = settings.width * settings.height * 3;
  const frames = Math.floor(r.stdoutBytes / frameBytes);
  if (frames === 0) throw new CodedError(ERR_FFMPEG, `ffmpeg decoded no frames from ${redactUrl(input)}`);
  const videoSeconds = frames / settings.fps;
  const cpuSeconds = Number(m[1]) + Number(m[2]);
  return {
    frames,
    videoSeconds,
    cpuSeconds,
    wallSeconds: Number(m[3]),
    // A decode faster than the clock's resolution still costs something; never report zero.
    cpuMsPerVideoSecond: Math.max((cpuSeconds * 1000) / videoSeconds, 0.001),
  };
}
