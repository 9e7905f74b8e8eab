import { CodedError } from '@safe-community/runtime';

/**
 * Named ffmpeg argument sets for frame decoding. Every ffmpeg argument the analytics package uses is
 * written here, so the arguments can be tested without ffmpeg and the one adapter that runs them
 * (ffmpeg-adapter.ts) stays small.
 */

export type ScaleMode = 'none' | 'letterbox' | 'stretch';

export interface DecodeSettings {
  /** Output frames per second (ffmpeg's fps filter drops/duplicates to hit it). */
  fps: number;
  /**
   * 'letterbox': fit inside width×height keeping the aspect ratio, picture top-left, grey (114) padding,
   * which is YOLOX's own preprocessing, so the detector does no resize of its own.
   * 'stretch': resize to width×height ignoring the aspect ratio (FastestDet, UltraFace).
   * 'none': keep the camera's size (width/height must then be given as the camera's size).
   */
  scale: ScaleMode;
  width: number;
  height: number;
}

export interface FfmpegArgs {
  input: string;
  inputOptions: string[];
  outputOptions: string[];
}

export interface PresetInfo {
  /** ffmpeg exiting with status 0 means the input has ended (files), not that the camera hung up. */
  endsAtEof: boolean;
  /** A live source: frames must be read as they come or the camera's socket backs up. */
  live: boolean;
}

export type PresetName = 'rtsp-tcp' | 'rtsp-udp' | 'http' | 'file' | 'file-realtime' | 'file-loop';

export const PRESET_INFO: Readonly<Record<PresetName, PresetInfo>> = Object.freeze({
  'rtsp-tcp': { endsAtEof: false, live: true },
  'rtsp-udp': { endsAtEof: false, live: true },
  http: { endsAtEof: false, live: true },
  file: { endsAtEof: true, live: false },
  'file-realtime': { endsAtEof: true, live: true },
  'file-loop': { endsAtEof: false, live: true },
});

/** 114 grey, as YOLOX pads; FastestDet and UltraFace never see the padding (they stretch). */
const PAD_COLOR = '0x727272';

/** Microseconds ffmpeg waits on a silent RTSP/HTTP socket before it gives up by itself. */
export const SOCKET_TIMEOUT_US = 5_000_000;

export function videoFilter(s: DecodeSettings): string {
  validate(s);
  // fps first: frames that will be dropped are never scaled, the main CPU saving at 5 fps from 25.
  const parts = [`fps=${s.fps}`];
  if (s.scale === 'letterbox') {
    parts.push(
      `scale=${s.width}:${s.height}:force_original_aspect_ratio=decrease:flags=bilinear`,
      `pad=${s.width}:${s.height}:0:0:color=${PAD_COLOR}`,
    );
  } else if (s.scale === 'stretch') {
    parts.push(`scale=${s.width}:${s.height}:flags=bilinear`);
  } else {
    // The camera's size is assumed to be width×height; scaling to it is a no-op when true and keeps
    // the frame size (and so the byte count per frame) right when the camera changes resolution.
    parts.push(`scale=${s.width}:${s.height}:flags=bilinear`);
  }
  return parts.join(',');
}

/** Builds the ffmpeg arguments for one preset. */
export function buildArgs(preset: PresetName, input: string, s: DecodeSettings): FfmpegArgs {
  if (!(preset in PRESET_INFO)) throw new CodedError('ERR_FFMPEG_PRESET', `unknown ffmpeg preset "${preset}"`);
  if (!input) throw new CodedError('ERR_FFMPEG_PRESET', 'ffmpeg input is empty');
  // One decoder thread and one filter thread per camera: a box runs many cameras on two cores, and
  // per-camera thread pools only add contention. -nostats keeps stderr to the lines we parse.
  const common = ['-hide_banner', '-nostdin', '-nostats', '-threads', '1', '-filter_threads', '1'];
  const inputOptions: string[] = [...common];
  switch (preset) {
    case 'rtsp-tcp':
    case 'rtsp-udp':
      inputOptions.push(
        '-rtsp_transport', preset === 'rtsp-tcp' ? 'tcp' : 'udp',
        '-timeout', String(SOCKET_TIMEOUT_US),
        // Drop damaged frames instead of passing grey smears to the detector.
        '-fflags', '+discardcorrupt+nobuffer',
        '-flags', 'low_delay',
      );
      break;
    case 'http':
      inputOptions.push('-rw_timeout', String(SOCKET_TIMEOUT_US), '-fflags', '+discardcorrupt');
      break;
    case 'file':
      break;
    case 'file-realtime':
      // -re reads at the native rate, so a file behaves like a live camera.
      inputOptions.push('-re');
      break;
    case 'file-loop':
      inputOptions.push('-re', '-stream_loop', '-1');
      break;
  }
  const outputOptions = [
    '-an', '-sn', '-dn',
    '-vf', videoFilter(s),
    // The fps filter already made the rate constant; passthrough stops the muxer adding its own dups.
    '-fps_mode', 'passthrough',
    '-pix_fmt', 'rgb24',
    '-f', 'rawvideo',
  ];
  return { input, inputOptions, outputOptions };
}

/** Picks the preset for an input by its scheme (rtsp://, http(s)://, otherwise a file path). */
export function presetFor(input: string, opts: { loop?: boolean; realtime?: boolean; udp?: boolean } = {}): PresetName {
  if (/^rtsps?:\/\//i.test(input)) return opts.udp ? 'rtsp-udp' : 'rtsp-tcp';
  if (/^https?:\/\//i.test(input)) return 'http';
  if (opts.loop) return 'file-loop';
  return opts.realtime ? 'file-realtime' : 'file';
}

function validate(s: DecodeSettings): void {
  if (!(s.fps > 0 && s.fps <= 60)) throw new CodedError('ERR_FFMPEG_PRESET', `fps must be in (0, 60], got ${s.fps}`);
  for (const [k, v] of [['width', s.width], ['height', s.height]] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 4096) {
      throw new CodedError('ERR_FFMPEG_PRESET', `${k} must be an integer in [16, 4096], got ${v}`);
    }
  }
}
