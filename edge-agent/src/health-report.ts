/**
 * The edge's own health as telemetry, so the cloud's Edge health dashboard has it even where nobody scrapes
 * the edge's Prometheus endpoint: outbox depth and oldest age, uplink lag, CPU and memory of the agent
 * process, every `everyMs`, as `edge.*` metrics of the device named after the edge.
 */
import type { Logger } from '@safe-community/runtime';
import type { UplinkSink } from './ports.js';

export interface HealthSources {
  outbox: () => { depth: number; oldestAgeMs: number };
  uplinkLagMs: () => number | null;
}

export class HealthReporter {
  private timer: NodeJS.Timeout | null = null;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor(private readonly opts: { site: string; edge: string; sink: UplinkSink; sources: HealthSources; everyMs: number; log: Logger }) {}

  start(): Promise<void> {
    this.timer = setInterval(() => void this.report(), this.opts.everyMs);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  /** One round of points (also called by tests). */
  async report(): Promise<number> {
    const { site, edge, sink, sources } = this.opts;
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.lastAt)) * 100;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const outbox = sources.outbox();
    const lag = sources.uplinkLagMs();
    const points: Array<[string, number, string]> = [
      ['edge.outbox_depth', outbox.depth, 'records'],
      ['edge.outbox_oldest_age_s', outbox.oldestAgeMs / 1000, 's'],
      ['edge.cpu_percent', cpuPercent, '%'],
      ['edge.memory_mb', process.memoryUsage().rss / 1_048_576, 'MB'],
      ...(lag === null ? [] : [['edge.uplink_lag_ms', lag, 'ms'] as [string, number, string]]),
    ];
    const time = new Date().toISOString();
    let sent = 0;
    for (const [metric, value, unit] of points) {
      try {
        await sink.append({ type: 'telemetry', data: { site, edge, device: edge, metric, value: Math.round(value * 100) / 100, unit, time } });
        sent++;
      } catch (err) {
        this.opts.log.warn({ err, metric }, 'edge health point not recorded');
      }
    }
    return sent;
  }
}
