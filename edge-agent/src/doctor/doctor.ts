/**
 * `edge-agent doctor`: every check an installer needs before leaving a box, run in order with progress
 * lines, gathered into one report. Cameras come first because a decoded camera frame is the most honest
 * image to time the model on; `--image` gives one when no camera is configured yet.
 */
import { readFile } from 'node:fs/promises';
import { errorCode } from '@safe-community/runtime';
import type { EdgeConfig } from '../config.js';
import { BUILTIN_RULES_FILE, loadRulePack, presetsNamedFor, type Rule } from '../linkage/index.js';
import { checkCamera } from './camera-check.js';
import { measureInference } from './inference.js';
import { checkBrokerPort, checkClock, checkDisk, checkUplink } from './system-checks.js';
import { formatTable } from './table.js';
import type { CheckResult, DoctorReport, Progress } from './types.js';

export interface DoctorOptions {
  /** Detector model (alias or manifest id); default 'yolox'. */
  model?: string;
  modelsDir?: string;
  /** Image to time the model on when no camera frame was decoded. */
  image?: string;
  /** Timed inference runs; default 10. */
  runs?: number;
  /** Whether the agent answered on its admin port (decides what the broker port should look like). */
  agentRunning: boolean;
  maxDriftMs?: number;
  timeoutMs?: number;
}

export async function runDoctor(cfg: EdgeConfig, opts: DoctorOptions, progress: Progress): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const step = (n: number, what: string) => progress(`[${n}/6] ${what}`);
  const record = (r: CheckResult) => {
    checks.push(r);
    progress(`  ${mark(r)} ${r.name}: ${r.detail}`);
  };

  step(1, `cameras (${cfg.cameras.length} configured)`);
  let frame: Buffer | undefined;
  let frameFrom = '';
  if (cfg.cameras.length === 0) record({ name: 'cameras', status: 'not checked', detail: 'no cameras in the config (run edge-agent discover)' });
  const rules = cfg.cameras.length > 0 ? await linkageRules(cfg, record) : [];
  for (const cam of cfg.cameras) {
    const c = await checkCamera(cam, progress, {
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      presets: presetsNamedFor(rules, { id: cam.id, tags: cam.tags }),
    });
    for (const r of c.results) record(r);
    if (c.frame && !frame) {
      frame = c.frame;
      frameFrom = `a frame of camera ${cam.id}`;
    }
  }

  step(2, `model ${opts.model ?? 'yolox'}: verify sha256, load, time inference`);
  record(await modelCheck(opts, frame, frameFrom, progress));

  step(3, 'device broker port');
  record(await checkBrokerPort(cfg, opts.agentRunning));
  step(4, 'uplink broker');
  record(await checkUplink(cfg, opts.timeoutMs));
  step(5, 'disk for the outbox');
  record(await checkDisk(cfg));
  step(6, 'clock');
  record(await checkClock(cfg, opts.maxDriftMs, opts.timeoutMs));

  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** The rule pack the agent would run, for the presets it names; a broken pack is its own failure. */
async function linkageRules(cfg: EdgeConfig, record: (r: CheckResult) => void): Promise<Rule[]> {
  try {
    return await loadRulePack([...(cfg.linkage.builtinRules ? [BUILTIN_RULES_FILE] : []), ...cfg.linkage.ruleFiles]);
  } catch (err) {
    record({ name: 'linkage rules', status: 'fail', code: errorCode(err), detail: (err as Error).message });
    return [];
  }
}

async function modelCheck(opts: DoctorOptions, cameraFrame: Buffer | undefined, cameraFrom: string, progress: Progress): Promise<CheckResult> {
  const name = 'model';
  let image = cameraFrame;
  let from = cameraFrom;
  try {
    if (!image && opts.image) {
      image = await readFile(opts.image);
      from = opts.image;
    }
  } catch (err) {
    return { name, status: 'fail', code: errorCode(err), detail: `cannot read --image ${opts.image}: ${(err as Error).message}` };
  }
  if (!image) {
    return { name, status: 'fail', code: 'ERR_DOCTOR_NO_IMAGE', detail: 'no camera frame decoded and no --image given: cannot time the model on a real image' };
  }
  try {
    const runs = opts.runs ?? 10;
    const f = await measureInference(image, {
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
      runs,
      onRun: (i, ms) => {
        if (i === runs || i % 5 === 0) progress(`  inference ${i}/${runs}: ${ms.toFixed(1)} ms`);
      },
    });
    return {
      name, status: 'ok',
      detail: `${f.model} (sha256 ${f.sha256}… verified) ${f.medianMs} ms median, ${f.p90Ms} ms p90 over ${f.runs} runs on ${from}; ${f.detections} detections with score ≥ ${f.countScore}${f.labels.length ? ` (${f.labels.join(', ')})` : ''}${f.belowScore ? `, ${f.belowScore} weaker not counted` : ''}`,
      figures: { medianMs: f.medianMs, p90Ms: f.p90Ms, minMs: f.minMs, runs: f.runs, detections: f.detections },
    };
  } catch (err) {
    return { name, status: 'fail', code: errorCode(err), detail: (err as Error).message };
  }
}

function mark(r: CheckResult): string {
  return r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'WARN' : r.status === 'fail' ? 'FAIL' : '--  ';
}

/** The summary table printed at the end. */
export function formatDoctorReport(report: DoctorReport): string {
  const rows = report.checks.map((c) => [c.name, c.status, c.detail]);
  const count = (s: CheckResult['status']) => report.checks.filter((c) => c.status === s).length;
  const failed = count('fail');
  const notes = [count('warn') && `${count('warn')} warning${count('warn') === 1 ? '' : 's'}`, count('not checked') && `${count('not checked')} not checked`].filter(Boolean);
  const head = failed === 0 ? 'all checks passed' : `${failed} check${failed === 1 ? '' : 's'} failed`;
  const summary = notes.length > 0 ? `${head} (${notes.join(', ')})` : head;
  return `${formatTable(['check', 'status', 'detail'], rows)}\n\n${summary}`;
}
