/** Synthetic frames, detections and tracks for the video tests. */
import type { Box, Detection, Frame, FrameDetector, NormDetection, TrackView } from '@safe-community/analytics/video';

/** A grey frame with the given boxes (pixel coordinates) painted white. */
export function syntheticFrame(seq: number, boxes: Box[] = [], size = { width: 160, height: 120 }, fps = 5): Frame {
  const { width, height } = size;
  const data = Buffer.alloc(width * height * 3, 90);
  for (const b of boxes) {
    for (let y = Math.max(0, Math.floor(b[1])); y < Math.min(height, Math.ceil(b[3])); y++) {
      for (let x = Math.max(0, Math.floor(b[0])); x < Math.min(width, Math.ceil(b[2])); x++) {
        data.fill(230, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
  }
  return {
    camera: 'synthetic', seq, ptsMs: (seq * 1000) / fps, receivedAt: Date.now(), width, height, data,
    content: { width, height, sourceWidth: width, sourceHeight: height },
  };
}

export function det(box: Box, score = 0.9, label = 'person'): NormDetection {
  return { label, score, box };
}

export function track(id: number, box: Box, label = 'person'): TrackView {
  return { id, label, score: 0.9, box, hits: 5 };
}

/** A box of size w×h whose bottom-centre is at (x, y). */
export function footAt(x: number, y: number, w = 0.06, h = 0.2): Box {
  return [x - w / 2, y - h, x + w / 2, y];
}

/**
 * A detector that "sees" the white rectangles painted by syntheticFrame, by reading the pixels: the
 * pipeline test then exercises real frame data end to end without a model. With a delay, calls run one
 * after another, as on a one-worker inference pool.
 */
export function paintedBoxDetector(delayMs = 0): FrameDetector & { calls: number } {
  let queue: Promise<unknown> = Promise.resolve();
  const d = {
    calls: 0,
    async detect(frame: Frame): Promise<Detection[]> {
      d.calls++;
      if (delayMs) {
        const turn = queue.then(() => new Promise((r) => setTimeout(r, delayMs)));
        queue = turn;
        await turn;
      }
      return findWhiteBlobs(frame);
    },
  };
  return d;
}

function findWhiteBlobs(frame: Frame): Detection[] {
  const { width, height, data } = frame;
  const seen = new Uint8Array(width * height);
  const out: Detection[] = [];
  const white = (i: number) => (data[i * 3] as number) > 200;
  for (let i = 0; i < width * height; i++) {
    if (seen[i] || !white(i)) continue;
    let x1 = width, y1 = height, x2 = 0, y2 = 0;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const p = stack.pop() as number;
      const x = p % width;
      const y = (p - x) / width;
      x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + 1); y2 = Math.max(y2, y + 1);
      for (const q of [p - 1, p + 1, p - width, p + width]) {
        if (q < 0 || q >= width * height || seen[q] || !white(q)) continue;
        if (Math.abs((q % width) - x) > 1) continue;
        seen[q] = 1;
        stack.push(q);
      }
    }
    out.push({ cls: 0, label: 'person', score: 0.9, box: [x1, y1, x2, y2] });
  }
  return out;
}
