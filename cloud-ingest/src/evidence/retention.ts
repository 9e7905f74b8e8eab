/**
 * Evidence retention (issue 16, item 4), a step of the storage maintenance: clips older than their site's
 * retention are deleted, file first and then row (a row without its file would show a clip that cannot be
 * played; a file without a row is found again by the next round through the row-less sweep below), and
 * uploads left unfinished for more than a day are discarded with their row, so the edge starts them again.
 */
import { systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { Db } from '../auth/index.js';
import { deleteClip, expiredClips, forgetUpload } from './clips-db.js';
import type { EvidenceStore } from './store.js';

export interface EvidenceRetentionOptions {
  db: Db;
  store: EvidenceStore;
  /** Days kept on a site without its own setting (config evidence.defaultRetentionDays). */
  defaultRetentionDays: number;
  /** An upload untouched this long is abandoned (default one day). */
  partialMaxAgeMs?: number;
  /** Rows handled per round, so one round stays short even after a long pause. */
  batch?: number;
  logger: Logger;
  clock?: Clock;
}

export interface EvidenceSweep {
  clips: number;
  partials: number;
}

const DAY_MS = 86_400_000;

export class EvidenceRetention {
  private readonly clock: Clock;

  constructor(private readonly opts: EvidenceRetentionOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async run(): Promise<EvidenceSweep> {
    if (this.opts.store.kind === 'none') return { clips: 0, partials: 0 };
    let clips = 0;
    for (const c of await expiredClips(this.opts.db, this.opts.defaultRetentionDays, this.opts.batch ?? 1000)) {
      if (c.storageKey) await this.opts.store.delete(c.storageKey, c.site);
      await deleteClip(this.opts.db, c.clip);
      clips++;
    }
    const before = new Date(this.clock.now() - (this.opts.partialMaxAgeMs ?? DAY_MS));
    let partials = 0;
    for (const p of await this.opts.store.listPartials({ before })) {
      await this.opts.store.discardPartial({ site: p.site, clip: p.clip });
      await forgetUpload(this.opts.db, p.clip);
      partials++;
    }
    // Rows of uploads that never stored a byte (refused at the first chunk's append) go the same way.
    const stale = await this.opts.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM evidence_clips WHERE status = 'uploading' AND received_at < $1 RETURNING clip) SELECT count(*)::int AS n FROM gone`,
      [before.toISOString()]);
    partials += stale[0]?.n ?? 0;
    if (clips > 0 || partials > 0) this.opts.logger.info({ clips, partials }, 'evidence past retention deleted');
    return { clips, partials };
  }
}
