/**
 * Builds the uplink's envelope text. Telemetry readings of this edge and site go in envelope v2's columnar
 * block (contracts/src/series.ts): every reading as its own JSON object cost the cloud's ingest most of its
 * time per row (issue #19). Everything else (and a reading of unusual shape, which the cloud then judges on
 * its own as a v1 message would be) is spliced from the outbox's stored JSON, as before. An envelope without
 * readings is sent as version 1, exactly as older edges send it.
 */
import { ENVELOPE_V2, type TelemetrySeries } from '@safe-community/contracts';

const TELEMETRY_KEYS = new Set(['site', 'edge', 'device', 'metric', 'value', 'unit', 'time']);

interface Reading { seq: number; data: { site: string; edge: string; device: string; metric: string; value: number; unit?: string; time: string } }

/** The record as a reading for the block, or null when it is anything else (or a reading of another shape). */
function asReading(json: string, edge: string, site: string): Reading | null {
  // Cheap pre-check on the stored text: only telemetry is parsed here.
  if (!json.includes('"type":"telemetry"')) return null;
  let m: unknown;
  try {
    m = JSON.parse(json);
  } catch {
    return null;
  }
  const r = m as { seq?: unknown; type?: unknown; data?: Record<string, unknown> } | null;
  if (!r || r.type !== 'telemetry' || typeof r.seq !== 'number' || !r.data || typeof r.data !== 'object') return null;
  const d = r.data;
  for (const k of Object.keys(d)) if (!TELEMETRY_KEYS.has(k)) return null;
  if (d.site !== site || d.edge !== edge || typeof d.device !== 'string' || typeof d.metric !== 'string') return null;
  if (typeof d.value !== 'number' || typeof d.time !== 'string' || (d.unit !== undefined && typeof d.unit !== 'string')) return null;
  return r as Reading;
}

/** Index of `value` in a dictionary, adding it on first use. */
function indexIn(dict: string[], index: Map<string, number>, value: string): number {
  let i = index.get(value);
  if (i === undefined) {
    i = dict.length;
    dict.push(value);
    index.set(value, i);
  }
  return i;
}

export function envelopeJson(edge: string, site: string, sentAt: string, messagesJson: readonly string[], epoch?: string): string {
  const series: TelemetrySeries = { seq: [], devices: [], device: [], metrics: [], metric: [], units: [], unit: [], value: [], time: [] };
  const dicts = { device: new Map<string, number>(), metric: new Map<string, number>(), unit: new Map<string, number>() };
  const others: string[] = [];
  for (const json of messagesJson) {
    const r = asReading(json, edge, site);
    if (!r) {
      others.push(json);
      continue;
    }
    series.seq.push(r.seq);
    series.device.push(indexIn(series.devices, dicts.device, r.data.device));
    series.metric.push(indexIn(series.metrics, dicts.metric, r.data.metric));
    series.unit.push(r.data.unit === undefined ? -1 : indexIn(series.units, dicts.unit, r.data.unit));
    series.value.push(r.data.value);
    series.time.push(r.data.time);
  }
  const ep = epoch ? `,"epoch":${JSON.stringify(epoch)}` : '';
  const head = `"edge":${JSON.stringify(edge)},"site":${JSON.stringify(site)},"sentAt":"${sentAt}"${ep}`;
  if (series.seq.length === 0) return `{"v":1,${head},"messages":[${others.join(',')}]}`;
  return `{"v":${ENVELOPE_V2},${head},"messages":[${others.join(',')}],"series":${JSON.stringify(series)}}`;
}
