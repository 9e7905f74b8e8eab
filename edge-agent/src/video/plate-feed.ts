/**
 * The plate feed of a barrier-lane camera: a second decoder of the same stream at the camera's full
 * resolution (default 1280×720, letterboxed, at most one frame per `everyMs`), because the detector's 416×416
 * letterbox shrinks a 1280×720 picture to a third and small plates no longer read (issue #20: 17/40 exact
 * on the detector's frame, 28/40 on the full frame before straightening). Latest-frame-wins: a slow read
 * drops frames, never queues them. Its failures are logged and never touch the detection pipeline.
 */
import { FrameSource } from '@safe-community/analytics/video';
import type { Logger } from '@safe-community/runtime';
import type { PlateSighting, PlateWatch } from './plate-watch.js';

export interface PlateFeedOptions {
  camera: string;
  input: string;
  loop: boolean;
  width: number;
  height: number;
  everyMs: number;
  watch: PlateWatch;
  log: Logger;
  onSighting(sighting: PlateSighting, frame: { width: number; height: number; data: Uint8Array }): void;
}

export class PlateFeed {
  private readonly source: FrameSource;
  private loop: Promise<void> | undefined;
  private running = false;

  constructor(private readonly opts: PlateFeedOptions) {
    this.source = new FrameSource({
      camera: `${opts.camera}#plates`, input: opts.input, fps: Math.min(10, 1000 / opts.everyMs),
      width: opts.width, height: opts.height, scale: 'letterbox', delivery: 'latest',
      ...(opts.loop ? { preset: 'file-loop' as const } : {}),
      logger: opts.log,
    });
  }

  async start(): Promise<void> {
    this.running = true;
    await this.source.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.source.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const frame = await this.source.next().catch((err: unknown) => {
        this.opts.log.warn({ camera: this.opts.camera, err }, 'plate feed failed');
        return null;
      });
      if (!frame) break;
      try {
        const sighting = await this.opts.watch.offer(frame);
        if (sighting) this.opts.onSighting(sighting, frame);
      } catch (err) {
        this.opts.log.warn({ camera: this.opts.camera, err }, 'plate read failed');
      }
    }
  }
}
