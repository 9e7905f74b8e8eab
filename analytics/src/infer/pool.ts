/**
 * A small pool of inference workers. Each worker holds its own onnxruntime sessions (one per model key), so
 * N workers run N inferences at once without sharing a session across threads. Jobs queue in the main thread
 * and go to the first idle worker; the queue is bounded so a slow box sheds load instead of growing memory.
 * A worker that dies is replaced after a backoff delay; its job fails with ERR_INFERENCE_WORKER.
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Backoff, CodedError, systemClock, type Clock, type Logger } from '@safe-community/runtime';
import type { FromWorker, RunRequest, SessionSettings, TensorData, WorkerInit } from './protocol.js';
import { spawnInferenceWorker } from './spawn.js';

export interface InferencePoolOptions {
  name: string;
  /** Model key → verified ONNX bytes. Every worker loads every model. */
  models: Record<string, Uint8Array>;
  /** Workers; default 1. More than the core count only adds contention. */
  size?: number;
  /** Intra-op threads per session: 1 (default) or 2 with spinning off, per PROVENANCE.md's measurements. */
  intraOpNumThreads?: number;
  allowSpinning?: boolean;
  /** Jobs waiting beyond this are refused with ERR_INFERENCE_BUSY. */
  maxQueue?: number;
  /**
   * Jobs handed to one worker at a time (default 2): the next waits in the worker's own queue and starts
   * the moment the one before ends, instead of after a round trip through this thread's event loop,
   * which may be busy preprocessing the next frame (issue #19: the worker idled between runs).
   */
  perWorker?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface RunResult {
  outputs: Record<string, TensorData>;
  /** session.run time inside the worker, ms. */
  ms: number;
}

interface Job {
  request: RunRequest;
  transfer: ArrayBuffer[];
  resolve(r: RunResult): void;
  reject(e: Error): void;
}

interface Slot {
  index: number;
  worker?: Worker;
  /** Handed to the worker, oldest first; it runs them one at a time, in this order. */
  jobs: Job[];
  ready: boolean;
  backoff: Backoff;
  closed?: () => void;
}

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private running = false;
  private timers = new Set<unknown>();
  private ioNames: { inputs: Record<string, string[]>; outputs: Record<string, string[]> } = { inputs: {}, outputs: {} };

  constructor(private readonly opts: InferencePoolOptions) {}

  get size(): number {
    return this.slots.length;
  }

  /** Input and output names per model, as the sessions report them. */
  get names(): { inputs: Record<string, string[]>; outputs: Record<string, string[]> } {
    return this.ioNames;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const size = Math.max(1, Math.min(this.opts.size ?? 1, availableParallelism()));
    this.running = true;
    for (let i = 0; i < size; i++) {
      this.slots.push({ index: i, jobs: [], ready: false, backoff: new Backoff({ initialMs: 200, maxMs: 10_000, jitter: 0.3 }) });
    }
    try {
      await Promise.all(this.slots.map((s) => this.spawn(s)));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Runs one model once. With `transfer`, the feed buffers move to the worker and are unusable afterwards. */
  run(model: string, feeds: Record<string, TensorData>, opts: { transfer?: boolean } = {}): Promise<RunResult> {
    if (!this.running) return Promise.reject(new CodedError('ERR_INFERENCE_STOPPED', `inference pool ${this.opts.name} is not running`));
    if (this.queue.length >= (this.opts.maxQueue ?? 32)) {
      return Promise.reject(new CodedError('ERR_INFERENCE_BUSY', `inference pool ${this.opts.name} has ${this.queue.length} jobs waiting`));
    }
    return new Promise<RunResult>((resolve, reject) => {
      const request: RunRequest = { type: 'run', id: this.nextId++, model, feeds };
      const transfer = opts.transfer ? Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer) : [];
      this.queue.push({ request, transfer, resolve, reject });
      this.dispatch();
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) (this.opts.clock ?? systemClock).clearTimeout(t);
    this.timers.clear();
    for (const job of this.queue.splice(0)) job.reject(new CodedError('ERR_INFERENCE_STOPPED', `inference pool ${this.opts.name} stopped`));
    await Promise.all(this.slots.map((s) => this.close(s)));
    this.slots.length = 0;
  }

  private spawn(slot: Slot): Promise<void> {
    const init: WorkerInit = { models: this.opts.models, settings: this.settings() };
    const worker = spawnInferenceWorker(init, `${this.opts.name}-${slot.index}`);
    slot.worker = worker;
    slot.ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            this.ioNames = { inputs: msg.inputs, outputs: msg.outputs };
            slot.ready = true;
            slot.backoff.reset();
            resolve();
            this.dispatch();
            break;
          case 'init-failed':
            reject(new CodedError('ERR_MODEL_LOAD', `${this.opts.name}: onnxruntime could not load the model: ${msg.message}`));
            break;
          case 'result':
          case 'failed':
            this.finish(slot, msg);
            break;
          case 'closed':
            if (msg.error) this.opts.logger?.warn({ pool: this.opts.name, err: msg.error }, 'session release failed');
            slot.closed?.();
            break;
        }
      });
      worker.on('error', (err) => {
        reject(new CodedError('ERR_INFERENCE_WORKER', `${this.opts.name}: worker failed: ${err.message}`, { cause: err }));
        this.lost(slot, err);
      });
      worker.on('exit', (code) => {
        reject(new CodedError('ERR_INFERENCE_WORKER', `${this.opts.name}: worker exited with code ${code} while starting`));
        if (slot.worker === worker) this.lost(slot, new Error(`exit code ${code}`));
      });
    });
  }

  private settings(): SessionSettings {
    const threads = this.opts.intraOpNumThreads ?? 1;
    return { intraOpNumThreads: threads, allowSpinning: this.opts.allowSpinning ?? threads === 1 };
  }

  private finish(slot: Slot, msg: Extract<FromWorker, { type: 'result' | 'failed' }>): void {
    const job = slot.jobs[0];
    if (!job || job.request.id !== msg.id) return;
    slot.jobs.shift();
    if (msg.type === 'result') job.resolve({ outputs: msg.outputs, ms: msg.ms });
    else job.reject(new CodedError('ERR_INFERENCE_FAILED', `${this.opts.name}/${job.request.model}: ${msg.message}`));
    this.dispatch();
  }

  /** A worker died outside stop(): fail its job and replace it after a backoff delay. */
  private lost(slot: Slot, err: Error): void {
    const jobs = slot.jobs.splice(0);
    slot.ready = false;
    slot.worker = undefined;
    for (const job of jobs) job.reject(new CodedError('ERR_INFERENCE_WORKER', `${this.opts.name}: worker lost during a run`, { cause: err }));
    if (!this.running) return;
    const delay = slot.backoff.next();
    this.opts.logger?.error({ pool: this.opts.name, err: err.message, retryMs: delay }, 'inference worker lost; replacing it');
    const clock = this.opts.clock ?? systemClock;
    const timer = clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.running) return;
      this.spawn(slot).catch((e: Error) => this.opts.logger?.error({ pool: this.opts.name, err: e.message }, 'worker restart failed'));
    }, delay);
    this.timers.add(timer);
  }

  private dispatch(): void {
    const depth = Math.max(1, this.opts.perWorker ?? 2);
    // Idle workers first, so jobs spread over the pool before any worker gets a second one.
    for (let round = 1; round <= depth; round++) {
      for (const slot of this.slots) {
        if (!this.queue.length) return;
        if (!slot.ready || !slot.worker || slot.jobs.length >= round) continue;
        const job = this.queue.shift()!;
        slot.jobs.push(job);
        slot.worker.postMessage(job.request, job.transfer);
      }
    }
  }

  /** Asks the worker to release its sessions, waits briefly, then terminates it. */
  private async close(slot: Slot): Promise<void> {
    const worker = slot.worker;
    slot.worker = undefined;
    slot.ready = false;
    if (!worker) return;
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    worker.on('error', (err) => this.opts.logger?.warn({ pool: this.opts.name, err: err.message }, 'worker error while closing'));
    const closed = new Promise<void>((resolve) => {
      slot.closed = resolve;
      setTimeout(resolve, 2000).unref();
    });
    worker.postMessage({ type: 'close' });
    await closed;
    for (const job of slot.jobs.splice(0)) job.reject(new CodedError('ERR_INFERENCE_STOPPED', `inference pool ${this.opts.name} stopped`));
    await worker.terminate();
  }
}
