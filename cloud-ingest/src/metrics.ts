/**
 * Prometheus metrics of the ingest, served on GET /metrics: rows and envelopes written (Prometheus derives
 * rows/s with rate()), duplicates, dead letters, gaps, store failures, commit time, and alarms by state and
 * severity read from the database at scrape time (so every instance reports the same, shared truth).
 */
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { IngestCounters } from './pipeline.js';
import type { Store } from './store/types.js';
import type { FloodCounts } from './flood.js';
import type { EvidenceCounters } from './evidence/upload-route.js';

export interface IngestMetricsDeps {
  counters: () => IngestCounters;
  store: Store;
  /** Refusals before authentication (flood.ts). */
  flood?: () => FloodCounts;
  /** The evidence upload route's counts (issue 16). */
  evidence?: () => EvidenceCounters;
}

export function createIngestMetrics(deps: IngestMetricsDeps): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ingest_' });
  const mirror = (name: string, help: string, pick: (c: IngestCounters) => number): void => {
    // Counters kept by the pipeline are copied in at scrape time; a Counter only moves forward.
    let last = 0;
    const c = new Counter({ name, help, registers: [registry], collect() {
      const now = pick(deps.counters());
      if (now > last) this.inc(now - last);
      last = Math.max(last, now);
    } });
    void c;
  };
  mirror('ingest_envelopes_total', 'Envelopes committed', (c) => c.envelopes);
  mirror('ingest_rows_written_total', 'Rows written to the data tables (rate() gives rows/s)', (c) => c.rowsWritten);
  mirror('ingest_duplicates_total', 'Records skipped as already stored', (c) => c.duplicates);
  mirror('ingest_dead_letters_total', 'Records and envelopes recorded in dead_letters', (c) => c.deadLetters);
  mirror('ingest_gaps_total', 'Envelopes refused for a sequence gap', (c) => c.gaps);
  mirror('ingest_store_failures_total', 'Failed commit attempts', (c) => c.storeFailures);
  mirror('ingest_commit_ms_total', 'Milliseconds spent in successful commits', (c) => c.commitMs);
  mirror('ingest_poisoned_records_total', 'Records the store refused even alone, dead-lettered in their place', (c) => c.poisoned);
  mirror('ingest_clock_adjusted_total', 'Records stored at the ingest time because their own was out of range', (c) => c.clockAdjusted);
  if (deps.flood) {
    const flood = deps.flood;
    const seen: Record<string, number> = {};
    new Counter({
      name: 'ingest_refused_before_auth_total', help: 'Requests refused before authentication, stored nowhere (issue 13)', labelNames: ['reason'], registers: [registry],
      collect() {
        for (const [reason, n] of Object.entries(flood())) {
          if (n > (seen[reason] ?? 0)) this.inc({ reason }, n - (seen[reason] ?? 0));
          seen[reason] = Math.max(seen[reason] ?? 0, n);
        }
      },
    });
  }
  if (deps.evidence) {
    const evidence = deps.evidence;
    const forward = (name: string, help: string, pick: (c: EvidenceCounters) => number): void => {
      let last = 0;
      const c = new Counter({ name, help, registers: [registry], collect() {
        const now = pick(evidence());
        if (now > last) this.inc(now - last);
        last = Math.max(last, now);
      } });
      void c;
    };
    const results: Array<[string, (c: EvidenceCounters) => number]> = [['stored', (c) => c.stored], ['hash_mismatch', (c) => c.hashMismatch], ['refused', (c) => c.refused]];
    const seen: Record<string, number> = {};
    new Counter({
      name: 'ingest_evidence_clips_total', help: 'Evidence clip uploads by result: stored whole, discarded for a hash or size mismatch, chunks refused', labelNames: ['result'], registers: [registry],
      collect() {
        for (const [result, pick] of results) {
          const n = pick(evidence());
          if (n > (seen[result] ?? 0)) this.inc({ result }, n - (seen[result] ?? 0));
          seen[result] = Math.max(seen[result] ?? 0, n);
        }
      },
    });
    forward('ingest_evidence_chunks_total', 'Evidence chunks taken', (c) => c.chunks);
    forward('ingest_evidence_bytes_total', 'Bytes of evidence clips stored whole', (c) => c.bytes);
  }
  new Gauge({
    name: 'ingest_alarms', help: 'Alarms by state and severity', labelNames: ['state', 'severity'], registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.store.query('SELECT state, severity, count(*)::int AS n FROM alarms GROUP BY 1, 2', []);
      for (const r of rows) this.set({ state: String(r.state), severity: String(r.severity) }, Number(r.n));
    },
  });
  return registry;
}

export function registerMetrics(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(body);
  });
}
