/**
 * Commands that come down from the cloud (an operator opening a gate, raising a barrier): checked against
 * the linkage holds (nothing is re-locked during a fire alarm), sent to the device, and tracked to their
 * read-back; the outcome goes up as a CommandResult like everything else.
 */
import { createLogger, type Logger } from '@safe-community/runtime';
import type { Command, CommandResult } from '@safe-community/contracts';
import type { CommandPort, DeviceDirectory, UplinkSink, ReadBack } from './ports.js';

export interface CommandGuard {
  check(cmd: Pick<Command, 'device' | 'action'>): { allowed: true } | { allowed: false; reason: string };
}

export interface CloudCommandsOptions {
  edge: string;
  devices: DeviceDirectory & CommandPort;
  guard: CommandGuard;
  sink: UplinkSink;
  /** Read-back wait when the command names no timeout. */
  defaultTimeoutMs?: number;
  logger?: Logger;
}

export class CloudCommands {
  private readonly log: Logger;
  private readonly waiting = new Map<string, (rb: ReadBack) => void>();
  private readonly off: () => void;
  private stopped = false;

  constructor(private readonly opts: CloudCommandsOptions) {
    this.log = (opts.logger ?? createLogger({ name: 'cloud-commands' })).child({ part: 'cloud-commands' });
    this.off = opts.devices.onReadBack((rb) => this.waiting.get(rb.commandId)?.(rb));
  }

  async run(cmd: Command): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    const result = (status: CommandResult['status'], detail?: string): CommandResult => ({
      commandId: cmd.id, site: cmd.site, edge: this.opts.edge, device: cmd.device, action: cmd.action, status,
      attempts: 1, latencyMs: Math.round((performance.now() - started) * 1000) / 1000, at: new Date().toISOString(),
      ...(detail ? { detail: detail.slice(0, 512) } : {}),
    });
    let outcome: CommandResult;
    const verdict = this.opts.guard.check(cmd);
    if (cmd.edge !== this.opts.edge) outcome = result('rejected', `command for edge ${cmd.edge} reached edge ${this.opts.edge}`);
    else if (!this.opts.devices.get(cmd.device)) outcome = result('rejected', `unknown device ${cmd.device}`);
    else if (!verdict.allowed) outcome = result('rejected', verdict.reason);
    else outcome = await this.sendAndWait(cmd, result);
    this.log.info({ device: cmd.device, action: cmd.action, status: outcome.status, ms: outcome.latencyMs }, 'cloud command');
    await this.opts.sink.append({ type: 'command_result', data: outcome });
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.off();
    return Promise.resolve();
  }

  private async sendAndWait(cmd: Command, result: (s: CommandResult['status'], d?: string) => CommandResult): Promise<CommandResult> {
    const timeoutMs = cmd.timeoutMs ?? this.opts.defaultTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const readBack = new Promise<ReadBack | null>((resolve) => {
      this.waiting.set(cmd.id, resolve);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      await this.opts.devices.send(cmd);
      const rb = await readBack;
      if (!rb) return result('timeout', `no read-back within ${timeoutMs} ms`);
      return rb.ok ? result('confirmed', rb.detail) : result('rejected', rb.detail ?? 'device refused');
    } catch (err) {
      return result('failed', (err as Error).message);
    } finally {
      clearTimeout(timer);
      this.waiting.delete(cmd.id);
    }
  }
}
