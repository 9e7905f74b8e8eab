/**
 * What the analytics accept as a picture: an encoded image (JPEG, PNG, WebP… as a Buffer) or a raw RGB frame
 * as ffmpeg writes it with `-pix_fmt rgb24` ({width, height, data}). Everything is turned into packed RGB
 * once, here, so detectors never guess at the layout.
 */
import sharp, { type Sharp } from 'sharp';
import { CodedError } from '@safe-community/runtime';

/** Packed 8-bit RGB, row-major, no padding: data.length === width * height * 3. */
export interface RawFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ImageInput = Uint8Array | RawFrame;

export function isRawFrame(input: ImageInput): input is RawFrame {
  return !(input instanceof Uint8Array);
}

/** Checks a raw frame's geometry; a short buffer from a truncated ffmpeg read is a corrupt frame. */
export function checkRawFrame(frame: RawFrame): RawFrame {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new CodedError('ERR_IMAGE_INVALID', `raw frame has invalid size ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new CodedError('ERR_IMAGE_INVALID',
      `raw frame ${width}x${height} needs ${width * height * 3} bytes of RGB, got ${data instanceof Uint8Array ? data.length : typeof data}`);
  }
  return frame;
}

/** Decodes any accepted input to packed RGB; ERR_IMAGE_INVALID (with the decoder's error as cause) if it cannot. */
export async function toRgb(input: ImageInput): Promise<RawFrame> {
  if (isRawFrame(input)) return checkRawFrame(input);
  if (input.length === 0) throw new CodedError('ERR_IMAGE_INVALID', 'image is empty');
  try {
    // failOn 'error' rejects truncated or corrupt files instead of returning a half-grey picture.
    const { data, info } = await sharp(input, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    throw new CodedError('ERR_IMAGE_INVALID', `image cannot be decoded (${input.length} bytes): ${(err as Error).message}`, { cause: err });
  }
}

/** A sharp pipeline over a raw RGB frame. */
export function rawSharp(frame: RawFrame): Sharp {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
}
