/**
 * The evidence queue (issue #16, item 4): one JSON manifest per clip in `<dataDir>/evidence/queue/`,
 * replaced atomically at every step, so a clip's progress (recording, blurring, queued, uploaded) survives
 * a restart or a power cut. Clips are far too big for the MQTT outbox; this queue is theirs.
 *
 * Bounded by bytes: when the clips waiting to upload exceed `maxBytes`, the oldest clips of the lowest
 * severity go first, and a fire clip goes only when nothing else is left to drop. A dropped clip's upload
 * file is deleted and its manifest says so (the unblurred original stays for its lawful keeping time).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SEVERITY_RANK, type Severity } from '@safe-community/contracts';
import { writeAtomic, type Logger } from '@safe-community/runtime';

export type ClipState = 'recording' | 'blurring' | 'queued' | 'uploaded' | 'failed' | 'dropped';

export interface ClipManifest {
  clip: string;
  camera: string;
  triggerEventId: string;
  triggerKind: string;
  triggerDevice: string;
  severity: Severity;
  /** When the trigger happened (epoch ms, edge clock) and the window asked for around it. */
  eventAtMs: number;
  fromMs: number;
  toMs: number;
  createdAt: string;
  state: ClipState;
  /** Why it failed or was dropped. */
  reason?: string;
  original?: string;
  /** Wall-clock time of the cut clip's first frame (the first segment's keyframe, at or before fromMs). */
  cutStartMs?: number;
  blurred?: string;
  /** The file that uploads (blurred, or the original when unblurred clips are sent) and what the cloud is told of it. */
  upload?: { file: string; bytes: number; sha256: string; blurred: boolean; startMs: number; durationMs: number };
  uploadedAt?: string;
}

/** Fire clips are dropped last of all (issue #16: "never fire alarms' clips before others"). */
export const isFireClip = (m: ClipManifest): boolean => m.triggerKind.startsWith('fire.');

/** Drop order: non-fire before fire, then lowest severity, then oldest. */
export function dropOrder(a: ClipManifest, b: ClipManifest): number {
  return Number(isFireClip(a)) - Number(isFireClip(b))
    || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]
    || a.createdAt.localeCompare(b.createdAt);
}

/** Upload order: fire first, then highest severity, then oldest. */
export function uploadOrder(a: ClipManifest, b: ClipManifest): number {
  return Number(isFireClip(b)) - Number(isFireClip(a))
    || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]
    || a.createdAt.localeCompare(b.createdAt);
}

export class EvidenceQueue {
  private readonly clips = new Map<string, ClipManifest>();
  private droppedCount = 0;

  constructor(private readonly dir: string, private readonly log: Logger) {}

  /** Reads every manifest on disk; an unreadable one is logged and left alone. */
  async load(): Promise<ClipManifest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        const m = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as ClipManifest;
        this.clips.set(m.clip, m);
      } catch (err) {
        this.log.error({ err, file: name }, 'evidence manifest unreadable; left in place');
      }
    }
    return this.list();
  }

  get(clip: string): ClipManifest | undefined {
    return this.clips.get(clip);
  }

  list(): ClipManifest[] {
    return [...this.clips.values()];
  }

  get dropped(): number {
    return this.droppedCount;
  }

  async save(m: ClipManifest): Promise<void> {
    this.clips.set(m.clip, m);
    await writeAtomic(join(this.dir, `${m.clip}.json`), JSON.stringify(m));
  }

  async remove(clip: string): Promise<void> {
    this.clips.delete(clip);
    await rm(join(this.dir, `${clip}.json`), { force: true });
  }

  /** Clips waiting for upload, in upload order. */
  pending(): ClipManifest[] {
    return this.list().filter((m) => m.state === 'queued').sort(uploadOrder);
  }

  /** Bytes of the clips waiting for upload. */
  bytes(): number {
    return this.pending().reduce((sum, m) => sum + (m.upload?.bytes ?? 0), 0);
  }

  /**
   * Drops waiting clips until the queue fits `maxBytes` (never `busy`, the clip uploading now); returns
   * the dropped manifests.
   */
  async enforce(maxBytes: number, busy?: string): Promise<ClipManifest[]> {
    let total = this.bytes();
    if (total <= maxBytes) return [];
    const victims = this.pending().filter((m) => m.clip !== busy).sort(dropOrder);
    const dropped: ClipManifest[] = [];
    for (const m of victims) {
      if (total <= maxBytes) break;
      total -= m.upload?.bytes ?? 0;
      if (m.blurred) await rm(m.blurred, { force: true });
      const reason = `queue over ${maxBytes} bytes: dropped (severity ${m.severity}, ${isFireClip(m) ? 'fire' : 'not fire'})`;
      const next: ClipManifest = { ...m, state: 'dropped', reason };
      delete next.upload;
      await this.save(next);
      this.droppedCount++;
      dropped.push(next);
      this.log.warn({ clip: m.clip, camera: m.camera, severity: m.severity, trigger: m.triggerKind }, 'evidence clip dropped: queue full');
    }
    return dropped;
  }
}
