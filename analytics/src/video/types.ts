/**
 * Shapes shared by the video stages. Geometry after detection is in normalised source-image
 * coordinates (0..1 on both axes), so zones and lines are configured once per camera view and hold
 * whatever size ffmpeg scales the frames to. IoU is unchanged by per-axis scaling, so the tracker works
 * in the same space.
 */

/** Where the source picture sits inside a decoded frame (letterboxing puts it top-left with padding). */
export interface ContentRect {
  /** Pixels of the frame covered by the picture, from the top-left corner. */
  width: number;
  height: number;
  /** Size of the picture the camera sends, when ffmpeg reported it. */
  sourceWidth: number;
  sourceHeight: number;
}

/** One decoded frame: packed RGB24, row-major, `width * height * 3` bytes. */
export interface Frame {
  camera: string;
  /** 0-based count of frames this source has produced since start (gaps mean dropped frames). */
  seq: number;
  /** Media time in ms since the first frame of the current decoder run, from the output frame rate. */
  ptsMs: number;
  /** Wall-clock ms (the source's clock) when the last byte of the frame arrived. */
  receivedAt: number;
  width: number;
  height: number;
  data: Buffer;
  content: ContentRect;
}

/** Axis-aligned box [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];

/** A point [x, y]. */
export type Point = [number, number];

/** A detector's answer for one object, in frame pixel coordinates (the shape the ONNX detectors return). */
export interface Detection {
  /** Class index in the model's label list. */
  cls: number;
  label: string;
  score: number;
  box: Box;
}

/** Per-call detector settings the pipeline may pass. */
export interface FrameDetectOptions {
  scoreThreshold?: number;
}

/**
 * What the pipeline needs from a detector: boxes in the frame's pixels. The ONNX detectors of
 * '@safe-community/analytics' fit as they are (a Frame is a raw RGB image to them); tests use
 * synthetic ones.
 */
export interface FrameDetector {
  detect(frame: Frame, opts?: FrameDetectOptions): Promise<Detection[]>;
}

/** A detection moved into normalised source coordinates. */
export interface NormDetection {
  label: string;
  score: number;
  box: Box;
}

/** A confirmed track as the rules see it, one per object per processed frame. */
export interface TrackView {
  id: number;
  label: string;
  score: number;
  box: Box;
  /** Frames this track has been matched in. */
  hits: number;
}
