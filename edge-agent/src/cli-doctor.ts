/**
 * `edge-agent doctor`: runs the installer checks with progress lines and prints a summary table.
 * Exit codes: 0 every check passed (or was not applicable), 1 at least one failed, 2 usage or config.
 * With --json the last line is the whole report as one JSON object.
 */
import { parseArgs } from 'node:util';
import { EXIT, askAgent, loadConfig, numberFlag, type CliIo } from './cli-common.js';
import { formatDoctorReport, runDoctor } from './doctor/index.js';

export async function doctorCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' }, image: { type: 'string' }, model: { type: 'string' }, 'models-dir': { type: 'string' },
      runs: { type: 'string' }, 'max-drift-ms': { type: 'string' }, 'timeout-ms': { type: 'string' }, json: { type: 'boolean' },
    },
  });
  const cfg = loadConfig(values.config, io.env);
  const runs = numberFlag(values.runs, 'runs');
  const maxDriftMs = numberFlag(values['max-drift-ms'], 'max-drift-ms');
  const timeoutMs = numberFlag(values['timeout-ms'], 'timeout-ms');
  const agentRunning = (await askAgent<unknown>(cfg, '/health')) !== null;
  io.out(`edge-agent doctor: edge ${cfg.edge.id}, site ${cfg.edge.site}${agentRunning ? ' (agent running)' : ''}`);
  const report = await runDoctor(cfg, {
    agentRunning,
    ...(values.image ? { image: values.image } : {}),
    model: values.model ?? cfg.video.model,
    ...(values['models-dir'] ?? cfg.video.modelsDir ? { modelsDir: values['models-dir'] ?? cfg.video.modelsDir } : {}),
    ...(runs !== undefined ? { runs: Math.max(1, Math.round(runs)) } : {}),
    ...(maxDriftMs !== undefined ? { maxDriftMs } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  }, (line) => io.out(line));
  io.out('');
  io.out(formatDoctorReport(report));
  if (values.json) io.out(JSON.stringify(report));
  return report.ok ? EXIT.ok : EXIT.failed;
}
