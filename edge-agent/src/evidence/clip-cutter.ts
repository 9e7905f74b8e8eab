/**
 * Joins the ring segments around a trigger into one MP4 without re-encoding (issue #16, item 2): ffmpeg's
 * concat demuxer reads the segments in order, the output stops at the clip's end (`-t`), and the
 * MP4 gets its index up front (`+faststart`) so a browser can start playing before the whole file arrives.
 * The clip opens on the first segment's keyframe, at or before the asked start: with stream copy nothing
 * can start between keyframes, and a clip that starts early is better evidence than one that starts late.
 */
import { chmod, rename, rm, stat, writeFile } from 'node:fs/promises';
import { CodedError } from '@safe-community/runtime';
import { probeVideo, runFfmpeg, type FfmpegSpawn } from './ffmpeg-run.js';
import type { Segment } from './segment-index.js';

export interface CutClip {
  file: string;
  /** Wall-clock start of the clip's first frame (epoch ms). */
  startMs: number;
  durationMs: number;
  bytes: number;
}

/** The concat list: every file in order. */
export function concatList(segments: readonly Segment[]): string {
  return `${['ffconcat version 1.0', ...segments.map((s) => `file '${s.file.replace(/'/g, "'\\''")}'`)].join('\n')}\n`;
}

export async function cutClip(segments: readonly Segment[], toMs: number, out: string, how: FfmpegSpawn): Promise<CutClip> {
  if (segments.length === 0) throw new CodedError('ERR_EVIDENCE_NO_SEGMENTS', 'no recorded segments cover the clip');
  const list = `${out}.txt`;
  const part = `${out}.part.mp4`;
  const first = segments[0]!;
  // The end is cut by length from the first keyframe (-t): the segments' own timestamps start wherever the
  // MPEG-TS muxer put them, so a per-file outpoint would be measured from the wrong zero.
  const seconds = Math.max(0.1, (toMs - first.startMs) / 1000);
  await writeFile(list, concatList(segments), { mode: 0o600 });
  try {
    await runFfmpeg(['-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0:v:0', '-c', 'copy', '-t', seconds.toFixed(3), '-movflags', '+faststart', part], how, 'ERR_EVIDENCE_CUT');
    // Video of residents: private to the agent's user like everything in the data folder.
    await chmod(part, 0o600);
    await rename(part, out);
  } finally {
    await rm(list, { force: true });
    await rm(part, { force: true });
  }
  const info = await probeVideo(out, how);
  return { file: out, startMs: first.startMs, durationMs: info.durationMs, bytes: (await stat(out)).size };
}
