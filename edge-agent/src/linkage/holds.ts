/**
 * Active holds: which devices a latching rule (the fire linkage) holds open or raised, and until what.
 * While a latch is active, commands that would undo a hold (lock, close, lower, release) are refused.
 * The set is kept in a small JSON state file, written atomically (temp file, fsync, rename, fsync of the
 * folder), so an agent restarted during an active fire alarm re-asserts the holds on start.
 */
import { readFile, rename } from 'node:fs/promises';
import { CodedError, writeAtomic, type Logger } from '@safe-community/runtime';

export const DEFAULT_REFUSE = Object.freeze(['lock', 'close', 'lower', 'release']);

export interface Hold {
  action: string;
  params: Record<string, unknown>;
  /** Action sent when the latch is released. */
  release: string;
  /** Actions refused while held. */
  refuse: string[];
}

export interface Latch {
  /** rule id + site + scope values; one latch per (rule, building) for the fire rule. */
  key: string;
  rule: string;
  site: string;
  edge: string;
  scope: Record<string, string>;
  triggerEventId: string;
  since: string;
  holds: Record<string, Hold>;
}

interface StateFileV1 {
  version: 1;
  latches: Latch[];
}

export interface Refusal {
  latch: Latch;
  hold: Hold;
}

export class HoldStore {
  private readonly latches = new Map<string, Latch>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Reads the state file. A missing file is an empty set; an unreadable one is moved aside and reported. */
  async load(): Promise<Latch[]> {
    this.latches.clear();
    if (!this.file) return [];
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CodedError('ERR_LINKAGE_STATE', `cannot read linkage state ${this.file}`, { cause: err });
    }
    try {
      const doc = JSON.parse(text) as StateFileV1;
      if (doc.version !== 1 || !Array.isArray(doc.latches)) throw new Error(`unknown state version ${String(doc.version)}`);
      for (const l of doc.latches) {
        if (typeof l.key !== 'string' || typeof l.rule !== 'string' || typeof l.holds !== 'object') throw new Error('bad latch record');
        this.latches.set(l.key, l);
      }
    } catch (err) {
      // Starting without holds is bad, refusing to start the engine at all is worse: keep the file for
      // inspection and carry on; the error log names it.
      const aside = `${this.file}.corrupt-${Date.now()}`;
      this.log.error({ err, file: this.file, aside }, 'linkage state file unreadable; moved aside, starting with no holds');
      await rename(this.file, aside).catch((e: unknown) => this.log.error({ err: e }, 'could not move the corrupt state file aside'));
      this.latches.clear();
    }
    return [...this.latches.values()];
  }

  list(): Latch[] {
    return [...this.latches.values()];
  }

  get(key: string): Latch | undefined {
    return this.latches.get(key);
  }

  /** Starts (or returns the already active) latch. */
  activate(init: Omit<Latch, 'holds'>): Latch {
    let latch = this.latches.get(init.key);
    if (!latch) {
      latch = { ...init, holds: {} };
      this.latches.set(init.key, latch);
    }
    return latch;
  }

  addHold(latch: Latch, device: string, hold: Hold): void {
    latch.holds[device] = hold;
  }

  /** The hold a command would break, if any. */
  refusal(device: string, action: string): Refusal | undefined {
    for (const latch of this.latches.values()) {
      const hold = latch.holds[device];
      if (hold && hold.refuse.includes(action)) return { latch, hold };
    }
    return undefined;
  }

  isHeld(device: string): boolean {
    for (const latch of this.latches.values()) if (latch.holds[device]) return true;
    return false;
  }

  /**
   * Ends the latches of `rule` on `site` whose scope matches `scope` (a field the release trigger lacks
   * matches any value: a site-wide panel reset ends every latch of the rule on the site). Returns the
   * ended latches and, per device, the hold to release: only devices no remaining latch still holds.
   */
  release(rule: string, site: string, scope: Readonly<Record<string, string>>): { ended: Latch[]; toRelease: Map<string, Hold> } {
    const ended: Latch[] = [];
    for (const latch of this.latches.values()) {
      if (latch.rule !== rule || latch.site !== site) continue;
      if (Object.entries(latch.scope).every(([k, v]) => scope[k] === undefined || scope[k] === v)) ended.push(latch);
    }
    for (const l of ended) this.latches.delete(l.key);
    const toRelease = new Map<string, Hold>();
    for (const l of ended) {
      for (const [device, hold] of Object.entries(l.holds)) if (!this.isHeld(device)) toRelease.set(device, hold);
    }
    return { ended, toRelease };
  }

  /** Writes the current set; writes are serialised so the file always holds the latest complete set. */
  save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const body = JSON.stringify({ version: 1, latches: this.list() } satisfies StateFileV1, null, 2);
    const next = this.writing.then(() => writeAtomic(file, body));
    this.writing = next.catch((err: unknown) => {
      this.log.error({ err, file }, 'linkage state not saved');
    });
    return next;
  }

  /** Resolves when every queued write has finished (for stop()). */
  flush(): Promise<void> {
    return this.writing;
  }
}

export { writeAtomic };
