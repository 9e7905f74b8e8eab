/**
 * Builds the agent's camera side from the config: the face blur every stored snapshot passes through, the
 * ONVIF cameras, the video analytics, and the state board that folds each camera's link and stream into
 * one state. Only builds: the agent starts the parts in its written order. Nothing here can fail because a
 * camera is unreachable; cameras are retried for ever in the background (issue #14).
 */
import { join } from 'node:path';
import type { Clock, Logger } from '@safe-community/runtime';
import { createPrivacyFilter, type PrivacyFilter } from '@safe-community/analytics';
import { CameraManager, CameraStateBoard, FileSnapshotStore } from './camera/index.js';
import { VideoAnalytics } from './video/video-analytics.js';
import type { EventHub } from './event-hub.js';
import type { EdgeMetrics } from './metrics.js';
import type { EdgeConfig } from './config.js';
import type { UplinkSink } from './ports.js';

export interface CameraParts {
  board: CameraStateBoard;
  privacy: PrivacyFilter | null;
  cameras: CameraManager | null;
  video: VideoAnalytics | null;
}

export interface CameraPartsDeps {
  config: EdgeConfig;
  dataDir: string;
  hub: EventHub;
  sink: UplinkSink;
  metrics: () => EdgeMetrics;
  clock: Clock;
  log: Logger;
}

export function buildCameraParts(deps: CameraPartsDeps): CameraParts {
  const { config: cfg, dataDir, hub, sink, clock, log } = deps;
  const board = new CameraStateBoard({ clock });
  if (cfg.cameras.length === 0) return { board, privacy: null, cameras: null, video: null };
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
      ...(c.profiles ? { profiles: { ...c.profiles } } : {}),
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
  return { board, privacy, cameras, video };
}
