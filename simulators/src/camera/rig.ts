/**
 * A complete simulated camera for the demo and benchmarks: RTSP source, ONVIF service pointing at it and,
 * when asked, a WS-Discovery responder. Started in that order (the ONVIF service hands out the RTSP
 * address) and stopped in reverse.
 */
import { CodedError } from '@safe-community/runtime';
import { RtspLoopSource } from './rtsp-source.js';
import { SimulatedOnvifCamera, type SimulatedCameraOptions } from './onvif-camera.js';
import { DiscoveryResponder, type DiscoveryResponderOptions } from './discovery-responder.js';

export interface CameraRigOptions {
  /** Video looped by the RTSP source. */
  video: string;
  camera: Omit<SimulatedCameraOptions, 'rtspBase'>;
  /** Discovery responder settings; omitted: no responder. */
  discovery?: Omit<DiscoveryResponderOptions, 'xaddrs'>;
  /** RTSP settings; the stream asks for the camera's credentials (Digest) unless `auth` is 'none'. */
  rtsp?: { host?: string; port?: number; ffmpegPath?: string; auth?: 'basic' | 'digest' | 'none' };
}

export class CameraRig {
  private rtspSource: RtspLoopSource | undefined;
  private onvifCamera: SimulatedOnvifCamera | undefined;
  private responder: DiscoveryResponder | undefined;

  constructor(private readonly opts: CameraRigOptions) {}

  async start(): Promise<void> {
    const { auth = 'digest', ...where } = this.opts.rtsp ?? {};
    const rtsp = new RtspLoopSource({
      file: this.opts.video,
      ...where,
      ...(auth === 'none' ? {} : { credentials: this.opts.camera.credentials, auth }),
    });
    await rtsp.start();
    this.rtspSource = rtsp;
    try {
      const cam = new SimulatedOnvifCamera({ ...this.opts.camera, rtspBase: rtsp.baseUrl });
      await cam.start();
      this.onvifCamera = cam;
      if (this.opts.discovery) {
        const responder = new DiscoveryResponder({ ...this.opts.discovery, xaddrs: () => [cam.deviceServiceUrl] });
        await responder.start();
        this.responder = responder;
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.responder?.stop();
    await this.onvifCamera?.stop();
    await this.rtspSource?.stop();
    this.responder = this.onvifCamera = this.rtspSource = undefined;
  }

  /** The ONVIF camera (to drive events, read the current preset). Throws before start(). */
  get camera(): SimulatedOnvifCamera {
    if (!this.onvifCamera) throw new CodedError('SIM_CAMERA_NOT_STARTED', 'camera rig not started');
    return this.onvifCamera;
  }

  get rtsp(): RtspLoopSource {
    if (!this.rtspSource) throw new CodedError('SIM_CAMERA_NOT_STARTED', 'camera rig not started');
    return this.rtspSource;
  }

  get discovery(): DiscoveryResponder | undefined {
    return this.responder;
  }
}
