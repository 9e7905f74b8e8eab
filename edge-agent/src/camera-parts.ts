/**
 * Builds the agent's camera side from the config: the face blur every stored snapshot passes through, the
 * ONVIF cameras, the video analytics, the evidence recorder (ring buffers, clips), and the state board that folds each camera's link and stream into
 * one state. Only builds: the agent starts the parts in its written order. Nothing here can fail because a
 * camera is unreachable; cameras are retried for ever in the background (issue #14).
 */
import { join } from 'node:path';
import type { Clock, Logger } from '@safe-community/runtime';
import { createPrivacyFilter, type PrivacyFilter } from '@safe-community/analytics';
import { CameraManager, CameraStateBoard, FileSnapshotStore } from './camera/index.js';
import { VideoAnalytics } from './video/video-analytics.js';
import { Evidence } from './evidence/index.js';
import type { EventHub } from './event-hub.js';
import type { EdgeMetrics } from './metrics.js';
import type { EdgeConfig } from './config.js';
import type { Tags } from '@safe-community/contracts';
import type { UplinkSink } from './ports.js';

export interface CameraParts {
  board: CameraStateBoard;
  privacy: PrivacyFilter | null;
  cameras: CameraManager | null;
  video: VideoAnalytics | null;
  /** Ring buffers and clips around alarms (issue #16); null without cameras or with evidence.enabled false. */
  evidence: Evidence | null;
}

export interface CameraPartsDeps {
  config: EdgeConfig;
  dataDir: string;
  hub: EventHub;
  sink: UplinkSink;
  metrics: () => EdgeMetrics;
  /** A device's tags (building, zone) for choosing the cameras that cover an alarm's place. */
  tagsOf: (device: string) => Readonly<Tags> | undefined;
  clock: Clock;
  log: Logger;
}

export function buildCameraParts(deps: CameraPartsDeps): CameraParts {
  const { config: cfg, dataDir, hub, sink, clock, log } = deps;
  const board = new CameraStateBoard({ clock });
  if (cfg.cameras.length === 0) return { board, privacy: null, cameras: null, video: null, evidence: null };
  for (const c of cfg.cameras) board.register(c.id, { link: Boolean(c.hostname), stream: Boolean(c.analytics), events: c.events });

  // Every stored snapshot passes through the face blur first (DESIGN: faces are detected only to blur them).
  const privacy = createPrivacyFilter(cfg.video.modelsDir ? { modelsDir: cfg.video.modelsDir } : {});
  const snapshots = new FileSnapshotStore({ dir: join(dataDir, 'snapshots'), redact: async (jpeg) => (await privacy.snapshot(jpeg)).jpeg });

  const onvif = cfg.cameras.filter((c) => c.hostname);
  const cameras = onvif.length === 0 ? null : new CameraManager({
    site: cfg.edge.site, edge: cfg.edge.id, snapshots, clock, log, board,
    // Capped so a camera that comes back after a power cut is found within half a minute, for ever.
    backoff: { initialMs: 1000, maxMs: 30_000 },
    cameras: onvif.map((c) => ({
      id: c.id, hostname: c.hostname!, port: c.port, path: c.path, username: c.username, password: c.password,
      events: c.events, tags: { ...c.tags }, ...(c.profileToken ? { profileToken: c.profileToken } : {}),
      ...(c.profiles || c.evidence?.profile ? { profiles: { ...c.profiles, ...(c.evidence?.profile ? { recording: c.evidence.profile } : {}) } } : {}),
    })),
  });
  if (cameras) {
    hub.add(cameras);
    cameras.onEvent((e) => void sink.append({ type: 'event', data: e }).catch((err: unknown) => log.error({ err }, 'camera event not stored')));
  }

  const analysed = cfg.cameras.filter((c) => c.analytics);
  const video = analysed.length === 0 ? null : new VideoAnalytics({
    site: cfg.edge.site, edge: cfg.edge.id, model: cfg.video.model, hub, sink, snapshots, privacy, log,
    streamLostAfterMs: cfg.video.streamLostSec * 1000,
    onFrame: (camera, result) => deps.metrics().observeFrame(camera, result),
    onDropped: (camera, count) => deps.metrics().videoDropped(camera, count),
    onStreamState: (camera, state, why) => {
      board.setStream(camera, state, why);
      // A stalled camera's fps is 0, not the last rate it had (issue #14: the gauge froze).
      if (state !== 'flowing') deps.metrics().videoStalled(camera);
    },
    ...(cfg.video.modelsDir ? { modelsDir: cfg.video.modelsDir } : {}),
    cameras: analysed.map((c) => ({
      id: c.id, tags: { ...c.tags }, fps: c.analytics!.fps, motion: c.analytics!.motion, loop: c.loop,
      ...(c.analytics!.plates ? { plates: { ...c.analytics!.plates } } : {}),
      rules: { lines: c.analytics!.lines, zones: c.analytics!.zones, crowds: c.analytics!.crowds } as never,
      // Asked again on every attempt: an ONVIF camera still booting has no stream URI yet.
      input: async () => c.stream ?? (await cameras!.authenticatedStreamUri(c.id)),
    })),
  });
  return { board, privacy, cameras, video, evidence: buildEvidence(deps, cameras) };
}

function buildEvidence(deps: CameraPartsDeps, cameras: CameraManager | null): Evidence | null {
  const { config: cfg, dataDir, sink, clock, log } = deps;
  const ev = cfg.evidence;
  const recorded = cfg.cameras.filter((c) => c.evidence?.enabled !== false);
  if (!ev.enabled || recorded.length === 0) return null;
  const uploadUrl = ev.uploadUrl ?? cfg.cloud.url;
  return new Evidence({
    site: cfg.edge.site, edge: cfg.edge.id, dir: join(dataDir, 'evidence'),
    settings: { ...ev, triggers: { kinds: ev.triggers.kinds, minSeverity: ev.triggers.minSeverity, ignore: ev.triggers.ignore } },
    // Recorded from the camera's main (recording) profile unless the camera names a stream to record.
    cameras: recorded.map((c) => ({
      id: c.id, tags: { ...c.tags }, loopFile: c.loop,
      resolveInput: async () => c.evidence?.stream ?? (c.hostname && cameras ? await cameras.authenticatedStreamUri(c.id, 'recording') : c.stream!),
    })),
    tagsOf: deps.tagsOf, sink,
    upload: uploadUrl ? { baseUrl: uploadUrl, edge: cfg.edge.id, chunkBytes: ev.chunkBytes, ...(cfg.uplink.secret ? { secret: cfg.uplink.secret } : {}) } : null,
    ...(cfg.video.modelsDir ? { modelsDir: cfg.video.modelsDir } : {}),
    observer: {
      segmentWritten: (camera, bytes) => deps.metrics().segmentWritten(camera, bytes),
      recorderRestarted: (camera) => deps.metrics().recorderRestarted(camera),
      clipMade: (camera) => deps.metrics().clipMade(camera),
      clipDropped: (camera) => deps.metrics().clipDropped(camera),
      clipFailed: (camera) => deps.metrics().clipFailed(camera),
      uploadFailed: () => deps.metrics().uploadFailed(),
    },
    clock, log,
  });
}
