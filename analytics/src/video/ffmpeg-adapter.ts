import ffmpeg from 'fluent-ffmpeg';
import type { Readable } from 'node:stream';
import { redactUrl } from '@safe-community/runtime';
import type { FfmpegArgs } from './ffmpeg-presets.js';

/**
 * The only file that touches fluent-ffmpeg (archived upstream in 2025): if it has to be replaced by a
 * plain child_process spawn, nothing else changes. Arguments come from ffmpeg-presets.ts.
 */

export interface FfmpegHandlers {
  /** The command line, with URL credentials already redacted. */
  onStart?(commandLine: string): void;
  /** The input picture size, parsed from ffmpeg's stream description before the first frame. */
  onSourceSize?(width: number, height: number): void;
  /** Called once: null for a clean exit (status 0), an Error (message redacted) otherwise. */
  onExit(err: Error | null): void;
}

export interface FfmpegProcess {
  readonly stdout: Readable;
  /** SIGKILL: a stalled decoder does not answer politely; onExit still follows. */
  kill(): void;
}

export type FfmpegSpawner = (args: FfmpegArgs, handlers: FfmpegHandlers) => FfmpegProcess;

const SIZE = /\b(\d{2,5})x(\d{2,5})\b/;

export const spawnFfmpeg: FfmpegSpawner = (args, handlers) => {
  let exited = false;
  const exit = (err: Error | null): void => {
    if (exited) return;
    exited = true;
    handlers.onExit(err);
  };
  // stdoutLines bounds the stderr lines fluent-ffmpeg keeps for error messages (0 would mean no limit,
  // which a camera running for months cannot afford). Piped stdout is never line-buffered.
  const cmd = ffmpeg({ source: args.input, stdoutLines: 20 });
  // Several arguments at once, so fluent-ffmpeg does not split any of them at spaces.
  cmd.inputOptions(...args.inputOptions);
  cmd.outputOptions(...args.outputOptions);
  // fluent-ffmpeg probes ffmpeg's capabilities before it spawns, and kill() in that window is a no-op;
  // remember the request and carry it out once the process exists.
  let started = false;
  let killRequested = false;
  cmd.on('start', (line: string) => {
    started = true;
    if (killRequested) cmd.kill('SIGKILL');
    else handlers.onStart?.(redactUrl(line));
  });
  cmd.on('codecData', (data: { video_details?: unknown }) => {
    const details = Array.isArray(data.video_details) ? data.video_details.join(', ') : String(data.video_details ?? '');
    const m = SIZE.exec(details);
    if (m) handlers.onSourceSize?.(Number(m[1]), Number(m[2]));
  });
  cmd.on('error', (err: Error) => {
    const wrapped = new Error(redactUrl(err.message));
    exit(wrapped);
  });
  cmd.on('end', () => exit(null));
  const stdout = cmd.pipe() as unknown as Readable;
  // A consumer that stops reading is handled by the frame source; stream errors end up in 'error' above.
  stdout.on('error', (err) => exit(new Error(redactUrl(err.message))));
  return {
    stdout,
    kill() {
      killRequested = true;
      if (started) cmd.kill('SIGKILL');
    },
  };
};
