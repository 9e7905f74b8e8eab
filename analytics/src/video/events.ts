import type { Event, Severity } from '@safe-community/contracts';
import type { VideoEventKind } from './rules.js';
import type { Detection, Frame } from './types.js';

/**
 * What the pipeline reports. It has the canonical Event's kind, severity, device time and payload;
 * the agent adds id, site, edge and sequence with `toCanonicalEvent`. The frame stays attached so the
 * privacy module can make the blurred snapshot before anything is stored or sent.
 */
export interface VideoEvent {
  kind: VideoEventKind;
  severity: Severity;
  camera: string;
  /** ISO time the frame arrived from the camera. */
  deviceTime: string;
  frameSeq: number;
  payload: Record<string, unknown>;
  /** The decoded frame the rule fired on (packed RGB at the source's output size). */
  frame: Frame;
  /** The detector's boxes on that frame, in frame pixels: the privacy snapshot looks for faces in them. */
  frameDetections: Detection[];
  /** Frame arrival → event emitted, ms. */
  latencyMs: number;
}

export interface CanonicalContext {
  id: string;
  site: string;
  edge: string;
  /** Defaults to the camera id. */
  device?: string;
  edgeTime?: string;
}

/** The canonical Event for a video event (without the frame; snapshots travel separately). */
export function toCanonicalEvent(ev: VideoEvent, ctx: CanonicalContext): Event {
  return {
    id: ctx.id,
    site: ctx.site,
    edge: ctx.edge,
    device: ctx.device ?? ev.camera,
    kind: ev.kind,
    severity: ev.severity,
    deviceTime: ev.deviceTime,
    edgeTime: ctx.edgeTime ?? new Date().toISOString(),
    payload: { ...ev.payload, frameSeq: ev.frameSeq },
  };
}
