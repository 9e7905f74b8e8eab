/**
 * Frame → input tensor, per the model manifest: resize (letterbox at top-left or stretch), colour order, and
 * (pixel − mean) / std, in NCHW float32. Also returns how to map model coordinates back to source pixels.
 */
import type { ModelManifest } from '@safe-community/models';
import type { RawFrame } from './image.js';
import { rawSharp } from './image.js';
import type { TensorData } from './infer/protocol.js';

export interface Prepared {
  tensor: TensorData;
  /** Source size, for clamping boxes. */
  width: number;
  height: number;
  /** model x = source x × scaleX (same for y). */
  scaleX: number;
  scaleY: number;
}

type InputSpec = ModelManifest['input'];

/** Resizes with sharp (libvips, off the JS thread) unless the frame already has the target size. */
async function resize(frame: RawFrame, w: number, h: number): Promise<RawFrame> {
  if (frame.width === w && frame.height === h) return frame;
  const data = await rawSharp(frame).resize(w, h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Packed RGB → planar float tensor of size tw×th; pixels outside `frame` (the letterbox padding) get `pad`.
 * One pass over the source, writing all three planes: this runs per frame on the calling thread.
 */
export function planarize(frame: RawFrame, spec: InputSpec, tw: number, th: number): TensorData {
  const plane = tw * th;
  const out = new Float32Array(3 * plane);
  const bgr = spec.colour === 'BGR';
  // tensor plane p takes source component comp[p]; for BGR, plane 0 is blue (component 2)
  const comp = bgr ? [2, 1, 0] : [0, 1, 2];
  const scale = [1 / spec.std[0], 1 / spec.std[1], 1 / spec.std[2]];
  const offset = [spec.mean[0] * scale[0]!, spec.mean[1] * scale[1]!, spec.mean[2] * scale[2]!];
  // per source component: which plane it goes to, and that plane's scale and offset
  const planeOf = [comp.indexOf(0), comp.indexOf(1), comp.indexOf(2)];
  const rBase = planeOf[0]! * plane, gBase = planeOf[1]! * plane, bBase = planeOf[2]! * plane;
  const rS = scale[planeOf[0]!]!, gS = scale[planeOf[1]!]!, bS = scale[planeOf[2]!]!;
  const rO = offset[planeOf[0]!]!, gO = offset[planeOf[1]!]!, bO = offset[planeOf[2]!]!;
  const src = frame.data;
  const w = Math.min(tw, frame.width);
  const h = Math.min(th, frame.height);
  for (let y = 0; y < h; y++) {
    let s = y * frame.width * 3;
    let o = y * tw;
    for (let x = 0; x < w; x++, s += 3, o++) {
      out[rBase + o] = src[s]! * rS - rO;
      out[gBase + o] = src[s + 1]! * gS - gO;
      out[bBase + o] = src[s + 2]! * bS - bO;
    }
  }
  if (w < tw || h < th) {
    for (let p = 0; p < 3; p++) {
      const padValue = spec.pad * scale[p]! - offset[p]!;
      const base = p * plane;
      for (let y = 0; y < th; y++) {
        const row = base + y * tw;
        if (y >= h) out.fill(padValue, row, row + tw);
        else if (w < tw) out.fill(padValue, row + w, row + tw);
      }
    }
  }
  return { data: out, dims: [1, 3, th, tw] };
}

/** Fixed-size inputs (detectors, faces): letterbox or stretch to the manifest's input shape. */
export async function prepareFixed(frame: RawFrame, spec: InputSpec): Promise<Prepared> {
  const th = spec.shape[2];
  const tw = spec.shape[3];
  if (spec.resize === 'letterbox') {
    const r = Math.min(tw / frame.width, th / frame.height);
    const w = Math.max(1, Math.min(tw, Math.round(frame.width * r)));
    const h = Math.max(1, Math.min(th, Math.round(frame.height * r)));
    const resized = await resize(frame, w, h);
    return { tensor: planarize(resized, spec, tw, th), width: frame.width, height: frame.height, scaleX: w / frame.width, scaleY: h / frame.height };
  }
  const resized = await resize(frame, tw, th);
  return { tensor: planarize(resized, spec, tw, th), width: frame.width, height: frame.height, scaleX: tw / frame.width, scaleY: th / frame.height };
}
