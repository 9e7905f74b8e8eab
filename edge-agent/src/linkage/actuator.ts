/**
 * One device action with proof: send → wait for the read-back → retry with backoff → give up. A read-back
 * that arrives late (during the backoff pause, or for an earlier attempt) still confirms, because every
 * attempt resends the same command id. Only one linkage action per device is in flight: a newer action of
 * equal or higher priority supersedes it (a fire hold-open does not wait behind a routine unlock retrying).
 */
import { Backoff, type Clock, type Logger } from '@safe-community/runtime';
import type { Command, CommandStatus } from '@safe-community/contracts';
import type { CommandPort, ReadBack } from '../ports.js';

export interface RetrySettings {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: Readonly<RetrySettings> = Object.freeze({ timeoutMs: 1000, attempts: 3, backoffMs: 100, maxBackoffMs: 1000 });

export interface Outcome {
  status: CommandStatus;
  attempts: number;
  /** Since the trigger: first hand-over to the broker (or first try when none succeeded). */
  sentAfterMs: number;
  /** Since the trigger: read-back. */
  confirmedAfterMs?: number;
  /** First send → read-back or giving up. */
  latencyMs: number;
  detail?: string;
  /** Ended on purpose (superseded by a newer action on the device, or the engine stopping), not by the device. */
  aborted?: boolean;
}

interface Pending {
  commandId: string;
  device: string;
  settle: (rb: ReadBack) => void;
}

/** Routes read-backs to the action waiting for them: by command id, else by device (dialects without ids). */
export class ReadBackHub {
  private readonly byCommand = new Map<string, Pending>();
  private readonly byDevice = new Map<string, Pending>();

  handle(rb: ReadBack): boolean {
    const p = (rb.commandId ? this.byCommand.get(rb.commandId) : undefined) ?? this.byDevice.get(rb.device);
    if (!p) return false;
    p.settle(rb);
    return true;
  }

  register(commandId: string, device: string): { readBack: Promise<ReadBack>; done: () => void } {
    let settle!: (rb: ReadBack) => void;
    const readBack = new Promise<ReadBack>((resolve) => (settle = resolve));
    const p: Pending = { commandId, device, settle };
    this.byCommand.set(commandId, p);
    this.byDevice.set(device, p);
    return {
      readBack,
      done: () => {
        if (this.byCommand.get(commandId) === p) this.byCommand.delete(commandId);
        if (this.byDevice.get(device) === p) this.byDevice.delete(device);
      },
    };
  }
}

export interface ActuatorDeps {
  commands: CommandPort;
  clock: Clock;
  hub: ReadBackHub;
  log: Logger;
  /** Monotonic ms for timings. */
  hr: () => number;
  random?: () => number;
}

type Wake = { kind: 'readback'; rb: ReadBack } | { kind: 'timer' } | { kind: 'abort' };

export class Actuator {
  private readonly inFlight = new Map<string, { priority: number; controller: AbortController; rule: string }>();

  constructor(private readonly deps: ActuatorDeps) {}

  /** Sends the command and waits for proof. Never throws: every failure is an Outcome. */
  async command(cmd: Command, opts: { priority: number; rule: string; startHr: number; retry: RetrySettings; signal: AbortSignal }): Promise<Outcome> {
    const { hr, commands, log } = this.deps;
    const current = this.inFlight.get(cmd.device);
    if (current && current.priority > opts.priority) {
      return { status: 'rejected', attempts: 1, sentAfterMs: hr() - opts.startHr, latencyMs: 0, detail: `device busy with higher-priority rule ${current.rule}` };
    }
    current?.controller.abort(new Error(`superseded by rule ${opts.rule}`));
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(opts.signal.reason);
    if (opts.signal.aborted) controller.abort(opts.signal.reason);
    else opts.signal.addEventListener('abort', onOuterAbort, { once: true });
    const slot = { priority: opts.priority, controller, rule: opts.rule };
    this.inFlight.set(cmd.device, slot);
    const pending = this.deps.hub.register(cmd.id, cmd.device);
    const backoff = new Backoff({ initialMs: opts.retry.backoffMs, maxMs: Math.max(opts.retry.backoffMs, opts.retry.maxBackoffMs), jitter: 0.2, ...(this.deps.random ? { random: this.deps.random } : {}) });
    const firstTry = hr();
    let sentAfterMs: number | undefined;
    let attempts = 0;
    let lastError: unknown;
    try {
      for (;;) {
        attempts++;
        let sent = false;
        try {
          await commands.send(cmd);
          sent = true;
          sentAfterMs ??= hr() - opts.startHr;
        } catch (err) {
          lastError = err;
          log.warn({ err, device: cmd.device, action: cmd.action, attempt: attempts }, 'linkage command not sent');
        }
        // A failed send gets no read-back; go straight to the pause before the next try.
        const wake = await this.wait(pending.readBack, sent ? opts.retry.timeoutMs : 0, controller.signal);
        if (wake.kind === 'readback') return this.settled(wake.rb, attempts, firstTry, sentAfterMs, opts.startHr);
        if (wake.kind === 'abort') return this.aborted(controller.signal, attempts, firstTry, sentAfterMs, opts.startHr);
        if (attempts >= opts.retry.attempts) {
          return sentAfterMs === undefined
            ? this.gaveUp('failed', attempts, firstTry, sentAfterMs, opts.startHr, `not sent: ${(lastError as Error)?.message ?? 'unknown error'}`)
            : this.gaveUp('timeout', attempts, firstTry, sentAfterMs, opts.startHr, `no read-back after ${attempts} attempts`);
        }
        const pause = await this.wait(pending.readBack, backoff.next(), controller.signal);
        if (pause.kind === 'readback') return this.settled(pause.rb, attempts, firstTry, sentAfterMs, opts.startHr);
        if (pause.kind === 'abort') return this.aborted(controller.signal, attempts, firstTry, sentAfterMs, opts.startHr);
      }
    } finally {
      pending.done();
      opts.signal.removeEventListener('abort', onOuterAbort);
      if (this.inFlight.get(cmd.device) === slot) this.inFlight.delete(cmd.device);
    }
  }

  /** Runs an async call (camera preset, snapshot) with the same retry policy; resolving is its proof. */
  async call<T>(fn: () => Promise<T>, opts: { startHr: number; retry: RetrySettings; signal: AbortSignal }): Promise<Outcome & { value?: T }> {
    const { hr } = this.deps;
    const backoff = new Backoff({ initialMs: opts.retry.backoffMs, maxMs: Math.max(opts.retry.backoffMs, opts.retry.maxBackoffMs), jitter: 0.2 });
    const first = hr();
    const sentAfterMs = first - opts.startHr;
    let lastError: unknown;
    for (let attempts = 1; ; attempts++) {
      try {
        const value = await withTimeout(fn(), opts.retry.timeoutMs, this.deps.clock);
        const now = hr();
        return { status: 'confirmed', attempts, sentAfterMs, confirmedAfterMs: now - opts.startHr, latencyMs: now - first, value };
      } catch (err) {
        lastError = err;
        this.deps.log.warn({ err, attempt: attempts }, 'linkage camera action failed');
      }
      if (attempts >= opts.retry.attempts || opts.signal.aborted) {
        return { status: 'failed', attempts, sentAfterMs, latencyMs: hr() - first, detail: (lastError as Error)?.message ?? 'failed' };
      }
      await this.wait(new Promise<never>(() => {}), backoff.next(), opts.signal);
    }
  }

  private wait(readBack: Promise<ReadBack>, ms: number, signal: AbortSignal): Promise<Wake> {
    if (signal.aborted) return Promise.resolve({ kind: 'abort' });
    return new Promise<Wake>((resolve) => {
      let finished = false;
      const finish = (w: Wake) => {
        if (finished) return;
        finished = true;
        this.deps.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(w);
      };
      const onAbort = () => finish({ kind: 'abort' });
      const timer = this.deps.clock.setTimeout(() => finish({ kind: 'timer' }), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      void readBack.then((rb) => finish({ kind: 'readback', rb }));
    });
  }

  private settled(rb: ReadBack, attempts: number, firstTry: number, sentAfterMs: number | undefined, startHr: number): Outcome {
    const now = this.deps.hr();
    const out: Outcome = {
      status: rb.ok ? 'confirmed' : 'rejected',
      attempts,
      sentAfterMs: sentAfterMs ?? firstTry - startHr,
      confirmedAfterMs: now - startHr,
      latencyMs: now - firstTry,
    };
    if (rb.detail) out.detail = rb.detail.slice(0, 500);
    if (!rb.ok) delete out.confirmedAfterMs;
    return out;
  }

  private aborted(signal: AbortSignal, attempts: number, firstTry: number, sentAfterMs: number | undefined, startHr: number): Outcome {
    const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
    return { ...this.gaveUp('failed', attempts, firstTry, sentAfterMs, startHr, reason), aborted: true };
  }

  private gaveUp(status: CommandStatus, attempts: number, firstTry: number, sentAfterMs: number | undefined, startHr: number, detail: string): Outcome {
    return { status, attempts, sentAfterMs: sentAfterMs ?? firstTry - startHr, latencyMs: this.deps.hr() - firstTry, detail: detail.slice(0, 500) };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
