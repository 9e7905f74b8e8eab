/**
 * One line per action of an execution, for the demo and the operator console, e.g.
 * "fire.alarm zone 3 → access_gate G1 hold_open confirmed in 4.2 ms".
 */
import type { DeviceDirectory } from '../ports.js';
import type { ExecutionReport } from './execution.js';

export function describeExecution(report: ExecutionReport, devices?: DeviceDirectory): string[] {
  const t = report.trigger;
  const zone = t && (t.tags?.zone ?? t.payload.zone);
  const cause = t ? `${t.kind}${t.tags?.building ? ` building ${t.tags.building}` : ''}${zone !== undefined ? ` zone ${String(zone)}` : ''}` : `restart: re-assert ${report.execution.rule}`;
  return report.execution.actions.filter((a) => a.action !== 'notice').map((a) => {
    if (a.action === 'raise_alarm') return `${cause} → alarm raised`;
    const kind = devices?.get(a.device)?.kind;
    const who = `${kind ? `${kind} ` : ''}${a.device}`;
    const verb = a.action.replace(/_/g, '-');
    const timing = a.status === 'confirmed' && a.confirmedAfterMs !== undefined
      ? `confirmed in ${a.confirmedAfterMs.toFixed(1)} ms`
      : `${a.status.toUpperCase()} after ${a.attempts} attempt${a.attempts > 1 ? 's' : ''}${report.details[a.commandId] ? ` (${report.details[a.commandId]})` : ''}`;
    return `${cause} → ${who} ${verb} ${timing}`;
  });
}
