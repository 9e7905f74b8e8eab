/**
 * `edge-agent capacity`: measures the detector and the decoder on this box and prints how many cameras it
 * can analyse at --fps, with every frame detected and with the motion gate skipping --motion-skip of them.
 *
 * The video is --video (a file or an RTSP URL), else the stream of --camera (or the first configured
 * camera) asked over ONVIF. The detector is timed on --image, else on a frame pulled from that video.
 * Exit codes: 0 measured, 1 a measurement failed, 2 usage or config. --json: last line is the report.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CodedError, redactUrl } from '@safe-community/runtime';
import { EXIT, loadConfig, numberFlag, type CliIo } from './cli-common.js';
import { checkCamera, formatCapacity, grabFrame, runCapacity } from './doctor/index.js';

export async function capacityCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' }, video: { type: 'string' }, camera: { type: 'string' }, image: { type: 'string' },
      fps: { type: 'string' }, 'motion-skip': { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' },
      cores: { type: 'string' }, 'cpu-budget': { type: 'string' }, model: { type: 'string' }, 'models-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const fps = numberFlag(values.fps, 'fps');
  const motionSkip = numberFlag(values['motion-skip'], 'motion-skip');
  const seconds = numberFlag(values.seconds, 'seconds');
  const runs = numberFlag(values.runs, 'runs');
  const cores = numberFlag(values.cores, 'cores');
  const cpuBudget = numberFlag(values['cpu-budget'], 'cpu-budget');

  const cfg = loadConfig(values.config, io.env);
  let video = values.video;
  let cameraFrame: Buffer | undefined;
  if (!video) {
    const cam = values.camera ? cfg.cameras.find((c) => c.id === values.camera) : cfg.cameras[0];
    if (!cam) {
      throw new CodedError('ERR_USAGE', values.camera
        ? `camera ${values.camera} is not in the config`
        : 'capacity needs --video FILE|URL, or a camera in the config (--camera ID)');
    }
    io.out(`asking camera ${cam.id} for its stream…`);
    const c = await checkCamera(cam, (line) => io.out(line));
    if (!c.streamUri || !c.frame) {
      io.err(`camera ${cam.id}: ${c.results[0]?.detail ?? 'no stream'}`);
      return EXIT.failed;
    }
    video = c.streamUri;
    cameraFrame = c.frame;
  }

  let image: Buffer;
  let imageFrom: string;
  if (values.image) {
    image = await readFile(values.image).catch((err: Error) => {
      throw new CodedError('ERR_USAGE', `cannot read --image ${values.image}: ${err.message}`, { cause: err });
    });
    imageFrom = values.image;
  } else if (cameraFrame) {
    image = cameraFrame;
    imageFrom = 'a camera frame';
  } else {
    // A second into the video, past the black or blurred first frames some encoders write.
    image = await grabFrame(video, { seekSeconds: 1 });
    imageFrom = `a frame of ${redactUrl(video)}`;
  }

  const report = await runCapacity({
    video, image, imageFrom,
    ...(fps !== undefined ? { fps } : {}),
    ...(motionSkip !== undefined ? { motionSkip } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(runs !== undefined ? { runs: Math.max(1, Math.round(runs)) } : {}),
    ...(cores !== undefined ? { cores } : {}),
    ...(cpuBudget !== undefined ? { cpuBudget } : {}),
    model: values.model ?? cfg.video.model,
    ...(values['models-dir'] ?? cfg.video.modelsDir ? { modelsDir: values['models-dir'] ?? cfg.video.modelsDir } : {}),
  }, (line) => io.out(line));
  io.out('');
  io.out(formatCapacity(report));
  if (values.json) io.out(JSON.stringify(report));
  return EXIT.ok;
}
