/**
 * The execution queue, ordered by rule priority (then arrival). Routine rules share a small number of
 * slots; life-safety rules (priority >= LIFE_SAFETY_PRIORITY) start at once, outside the slots, so a fire
 * linkage never waits behind routine work however busy the engine is.
 */
import { LIFE_SAFETY_PRIORITY } from './schema.js';

interface Job {
  priority: number;
  seq: number;
  run: () => Promise<void>;
}

export class PriorityScheduler {
  private readonly queue: Job[] = [];
  private running = 0;
  private seq = 0;
  private drainScheduled = false;
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly slots: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  submit(priority: number, run: () => Promise<void>): void {
    if (priority >= LIFE_SAFETY_PRIORITY) {
      // Synchronously: the first commands are on the wire before this event handler returns.
      this.launch(run, false);
      return;
    }
    const job: Job = { priority, seq: this.seq++, run };
    // Insertion keeps the queue sorted: higher priority first, FIFO within a priority.
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as Job).priority < priority) i--;
    this.queue.splice(i, 0, job);
    // Drain on the next turn, so triggers that arrive together are ordered by priority, not arrival.
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
  }

  /** Resolves when nothing is queued or running (queued jobs still run). */
  async whenIdle(): Promise<void> {
    while (this.active.size || this.queue.length || this.drainScheduled) {
      await Promise.allSettled([...this.active]);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves when everything started so far has finished; queued jobs are dropped. */
  async close(): Promise<void> {
    this.queue.length = 0;
    while (this.active.size) await Promise.allSettled([...this.active]);
  }

  private drain(): void {
    while (this.running < this.slots && this.queue.length) {
      const job = this.queue.shift() as Job;
      this.launch(job.run, true);
    }
  }

  private launch(run: () => Promise<void>, usesSlot: boolean): void {
    if (usesSlot) this.running++;
    let p: Promise<void>;
    try {
      p = run();
    } catch (err) {
      p = Promise.reject(err);
    }
    const tracked = p
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.active.delete(tracked);
        if (usesSlot) {
          this.running--;
          this.drain();
        }
      });
    this.active.add(tracked);
  }
}
