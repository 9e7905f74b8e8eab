/**
 * Privacy snapshots: a JPEG of a frame in which every face UltraFace finds is blurred before the image is
 * stored or sent (DESIGN.md "Out of bounds"; issue 5 item 4). The blur happens on decoded pixels here, so no
 * unblurred encoding of the frame ever leaves this function.
 */
import type { OverlayOptions } from 'sharp';
import type { Logger } from '@safe-community/runtime';
import { rawSharp, toRgb, type ImageInput, type RawFrame } from './image.js';
import { iou, type Box, type Detection } from './detection.js';
import { FaceDetector, type Face, type FaceDetectorOptions } from './faces.js';

export interface PrivacyOptions extends FaceDetectorOptions {
  /** JPEG quality of snapshots (default 85). */
  quality?: number;
  /** Grow each face box by this share of its size on every side, so hair line and chin are covered (default 0.25). */
  margin?: number;
  /**
   * Also search the head end of each person detection (up to this many, default 8). Faces of distant people
   * are too small for a whole-frame 320×240 pass.
   */
  personCrops?: number;
  logger?: Logger;
}

export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
  /** The regions that were blurred (after the margin), source pixels. */
  blurred: Box[];
  faces: Face[];
}

/** Expands a box by `margin` of its size on each side and rounds it to whole pixels inside the frame. */
export function growBox(box: Box, margin: number, width: number, height: number): Box {
  const mx = (box[2] - box[0]) * margin;
  const my = (box[3] - box[1]) * margin;
  return [
    Math.max(0, Math.floor(box[0] - mx)), Math.max(0, Math.floor(box[1] - my)),
    Math.min(width, Math.ceil(box[2] + mx)), Math.min(height, Math.ceil(box[3] + my)),
  ];
}

/**
 * Blurs the given regions of a frame (a copy; the input is not changed). The sigma scales with the region so
 * a large face cannot be recognised through a small blur.
 */
export async function blurRegions(frame: RawFrame, regions: Box[]): Promise<RawFrame> {
  const overlays: OverlayOptions[] = [];
  for (const [x1, y1, x2, y2] of regions) {
    const width = x2 - x1;
    const height = y2 - y1;
    if (width < 1 || height < 1) continue;
    const sigma = Math.max(4, Math.min(width, height) / 5);
    const patch = await rawSharp(frame).extract({ left: x1, top: y1, width, height }).blur(sigma).raw().toBuffer();
    overlays.push({ input: patch, raw: { width, height, channels: 3 }, left: x1, top: y1 });
  }
  if (!overlays.length) return { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
  const data = await rawSharp(frame).composite(overlays).removeAlpha().raw().toBuffer();
  return { width: frame.width, height: frame.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export class PrivacyFilter {
  private readonly faces: FaceDetector;

  constructor(private readonly opts: PrivacyOptions = {}) {
    this.faces = new FaceDetector(opts);
  }

  start(): Promise<void> {
    return this.faces.start();
  }

  stop(): Promise<void> {
    return this.faces.stop();
  }

  /** Finds faces in the whole frame and, optionally, in the head end of person detections. */
  async findFaces(frame: RawFrame, detections: readonly Detection[] = []): Promise<Face[]> {
    const found = await this.faces.detect(frame);
    const limit = this.opts.personCrops ?? 8;
    const persons = detections.filter((d) => d.label === 'person').sort((a, b) => b.score - a.score).slice(0, limit);
    for (const p of persons) {
      const [x1, y1, x2, y2] = p.box;
      const w = x2 - x1;
      const h = y2 - y1;
      // a person under half the frame height has a face too small for the whole-frame pass
      if (h > frame.height / 2) continue;
      const head: Box = [x1 - w * 0.15, y1 - h * 0.05, x2 + w * 0.15, y1 + Math.max(h * 0.4, w)];
      for (const f of await this.faces.detectInRegion(frame, head)) {
        if (!found.some((g) => iou(g.box, f.box) > 0.3)) found.push(f);
      }
    }
    return found;
  }

  /** JPEG of the frame with every face found blurred. `detections` are the object detector's boxes. */
  async snapshot(image: ImageInput, detections: readonly Detection[] = []): Promise<Snapshot> {
    const frame = await toRgb(image);
    const faces = await this.findFaces(frame, detections);
    const regions = faces.map((f) => growBox(f.box, this.opts.margin ?? 0.25, frame.width, frame.height));
    const blurred = await blurRegions(frame, regions);
    const jpeg = await rawSharp(blurred).jpeg({ quality: this.opts.quality ?? 85, mozjpeg: false }).toBuffer();
    return { jpeg, width: frame.width, height: frame.height, blurred: regions, faces };
  }
}

export function createPrivacyFilter(opts: PrivacyOptions = {}): PrivacyFilter {
  return new PrivacyFilter(opts);
}
