/**
 * A CommandPort for everyone else (operators, the cloud, other parts of the agent) that refuses commands
 * undoing an active linkage hold: while the fire alarm is active nothing re-locks an evacuation gate or
 * lowers an exit barrier, whoever asks. Each refusal is recorded as a rejected CommandResult.
 */
import type { Command, CommandResult } from '@safe-community/contracts';
import { CodedError, type Logger } from '@safe-community/runtime';
import type { CommandPort, ReadBack, UplinkSink } from '../ports.js';

export const ERR_LINKAGE_HELD = 'ERR_LINKAGE_HELD';

export interface HoldCheck {
  check(cmd: Pick<Command, 'device' | 'action'>): { allowed: true } | { allowed: false; reason: string };
}

export function guardCommands(inner: CommandPort, guard: HoldCheck, sink: UplinkSink, log: Logger): CommandPort {
  return {
    async send(cmd: Command): Promise<void> {
      const verdict = guard.check(cmd);
      if (!verdict.allowed) {
        const result: CommandResult = {
          commandId: cmd.id,
          site: cmd.site,
          edge: cmd.edge,
          device: cmd.device,
          action: cmd.action,
          status: 'rejected',
          attempts: 1,
          latencyMs: 0,
          at: new Date().toISOString(),
          detail: `refused: ${verdict.reason}`.slice(0, 512),
        };
        log.warn({ device: cmd.device, action: cmd.action, issuedBy: cmd.issuedBy }, result.detail as string);
        try {
          await sink.append({ type: 'command_result', data: result });
        } catch (err) {
          log.error({ err }, 'refusal not recorded');
        }
        throw new CodedError(ERR_LINKAGE_HELD, result.detail as string);
      }
      await inner.send(cmd);
    },
    onReadBack(listener: (rb: ReadBack) => void): () => void {
      return inner.onReadBack(listener);
    },
  };
}
