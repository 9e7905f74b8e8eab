/**
 * The columnar telemetry block of envelope v2 (`series`): the readings of one envelope with every field
 * name written once and each value in its column, strings that repeat (devices, metrics, units) written
 * once in a dictionary and referenced by index. Row i is the reading
 * `{ seq: seq[i], type: 'telemetry', data: { site, edge, device: devices[device[i]], metric: metrics[metric[i]],
 * value: value[i], unit: unit[i] < 0 ? absent : units[unit[i]], time: time[i] } }`, where site and edge are
 * the envelope's own. Per-key JSON objects cost the ingest most of its time per reading (issue #19).
 *
 * The block is checked here column by column, by hand, with the same bounds as the v1 Telemetry schema and
 * the decode limits: a malformed block (a column missing, of another type, of another length, too long, an
 * unusable seq) refuses the envelope; a bad reading (an index out of range, a bad dictionary entry, a value
 * that is not a number, a malformed time) is refused alone, under its own seq, and the others are stored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ID_RE, Id, Timestamp } from './common.js';
import type { Issue } from './errors.js';
import type { UplinkMessage } from './envelope.js';

/** Most readings (and dictionary entries) in one block, the same bound as an envelope's messages. */
export const MAX_SERIES_ROWS = 10_000;

const Index = Type.Integer({ minimum: 0 });
const Metric = Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 64 });
const Unit = Type.String({ maxLength: 16 });

/** The wire format, for documentation and for whole-envelope checks; the ingest uses `expandSeries`. */
export const TelemetrySeries = Type.Object(
  {
    seq: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: MAX_SERIES_ROWS }),
    devices: Type.Array(Id, { maxItems: MAX_SERIES_ROWS }),
    device: Type.Array(Index, { maxItems: MAX_SERIES_ROWS }),
    metrics: Type.Array(Metric, { maxItems: MAX_SERIES_ROWS }),
    metric: Type.Array(Index, { maxItems: MAX_SERIES_ROWS }),
    units: Type.Array(Unit, { maxItems: MAX_SERIES_ROWS }),
    unit: Type.Array(Type.Integer({ minimum: -1 }), { maxItems: MAX_SERIES_ROWS, description: '-1: no unit' }),
    value: Type.Array(Type.Number(), { maxItems: MAX_SERIES_ROWS }),
    time: Type.Array(Timestamp, { maxItems: MAX_SERIES_ROWS }),
  },
  { additionalProperties: false, $id: 'TelemetrySeries' },
);
export type TelemetrySeries = Static<typeof TelemetrySeries>;

const COLUMNS = ['seq', 'device', 'metric', 'unit', 'value', 'time'] as const;
const DICTIONARIES = ['devices', 'metrics', 'units'] as const;
const KEYS = new Set<string>([...COLUMNS, ...DICTIONARIES]);

const METRIC_RE = /^[a-z][a-z0-9_.]*$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

const idIssue = (s: unknown): string | null =>
  typeof s === 'string' && ID_RE.test(s) ? null : 'not an id (1–64 of A-Z a-z 0-9 . _ -, starting alphanumeric)';
const metricIssue = (s: unknown): string | null =>
  typeof s === 'string' && s.length <= 64 && METRIC_RE.test(s) ? null : 'not a metric name (^[a-z][a-z0-9_.]*$, at most 64)';
const unitIssue = (s: unknown): string | null =>
  typeof s !== 'string' ? 'not a string' : s.length > 16 ? 'longer than 16 characters' : s.includes('\u0000') ? 'holds a NUL character' : null;

export type TelemetryMessage = Extract<UplinkMessage, { type: 'telemetry' }>;

/** One reading of a block: the message, or why it is refused (with the reading as far as it could be read). */
export type SeriesRow =
  | { seq: number; ok: true; msg: TelemetryMessage }
  | { seq: number; ok: false; issues: Issue[]; raw: Record<string, unknown> };

/** The block's shape issues; empty when every column is there, an array of the right length. */
export function seriesShapeIssues(series: unknown): Issue[] {
  if (series === null || typeof series !== 'object' || Array.isArray(series)) return [{ path: '/series', reason: 'not an object' }];
  const s = series as Record<string, unknown>;
  const issues: Issue[] = [];
  for (const k of Object.keys(s)) if (!KEYS.has(k)) issues.push({ path: `/series/${k}`, reason: 'unknown column' });
  for (const k of [...COLUMNS, ...DICTIONARIES]) {
    const col = s[k];
    if (!Array.isArray(col)) issues.push({ path: `/series/${k}`, reason: 'missing or not an array' });
    else if (col.length > MAX_SERIES_ROWS) issues.push({ path: `/series/${k}`, reason: `array of ${col.length} items exceeds ${MAX_SERIES_ROWS}` });
  }
  if (issues.length > 0) return issues.slice(0, 3);
  const n = (s.seq as unknown[]).length;
  for (const k of COLUMNS) {
    const len = (s[k] as unknown[]).length;
    if (len !== n) issues.push({ path: `/series/${k}`, reason: `column of ${len} items, seq has ${n}` });
  }
  const seq = s.seq as unknown[];
  // The outbox assigns seqs, not the devices: a block with an unusable one is malformed as a whole.
  for (let i = 0; i < n && issues.length < 3; i++) {
    const q = seq[i];
    if (typeof q !== 'number' || !Number.isSafeInteger(q) || q < 1) issues.push({ path: `/series/seq/${i}`, reason: 'not a seq (an integer ≥ 1)' });
  }
  return issues.slice(0, 3);
}

/** Issues of each dictionary entry (null when it is fine), checked once however many readings use it. */
function dictionaryIssues(entries: unknown[], check: (s: unknown) => string | null): Array<string | null> {
  const out = new Array<string | null>(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = check(entries[i]);
  return out;
}

/** Resolves index `ix` of row `i` in a dictionary: the entry, or an issue. */
function lookup(ix: unknown, dict: unknown[], bad: Array<string | null>, col: string, i: number, issues: Issue[], optional = false): string | undefined {
  if (optional && ix === -1) return undefined;
  if (typeof ix !== 'number' || !Number.isInteger(ix) || ix < 0 || ix >= dict.length) {
    issues.push({ path: `/series/${col}/${i}`, reason: `index ${String(ix)} is not in ${col}s (0–${dict.length - 1}${optional ? ', or -1' : ''})` });
    return undefined;
  }
  const why = bad[ix];
  if (why) {
    issues.push({ path: `/series/${col}s/${ix}`, reason: why });
    return undefined;
  }
  return dict[ix] as string;
}

const entry = (dict: unknown[], ix: unknown): unknown =>
  typeof ix === 'number' && Number.isInteger(ix) && ix >= 0 && ix < dict.length ? dict[ix] : { index: ix };

/**
 * Expands a block whose shape passed `seriesShapeIssues` into its readings, in block order, each checked on
 * its own. Strings are the dictionary's own (no copy per reading).
 */
export function expandSeries(series: TelemetrySeries, site: string, edge: string): SeriesRow[] {
  type Columns = { seq: number[]; device: unknown[]; metric: unknown[]; unit: unknown[]; value: unknown[]; time: unknown[]; devices: unknown[]; metrics: unknown[]; units: unknown[] };
  const { seq, device, metric, unit, value, time, devices, metrics, units } = series as unknown as Columns;
  const badDevice = dictionaryIssues(devices, idIssue);
  const badMetric = dictionaryIssues(metrics, metricIssue);
  const badUnit = dictionaryIssues(units, unitIssue);
  const out = new Array<SeriesRow>(seq.length);
  for (let i = 0; i < seq.length; i++) {
    const issues: Issue[] = [];
    const d = lookup(device[i], devices, badDevice, 'device', i, issues);
    const m = lookup(metric[i], metrics, badMetric, 'metric', i, issues);
    const u = lookup(unit[i], units, badUnit, 'unit', i, issues, true);
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) issues.push({ path: `/series/value/${i}`, reason: 'not a finite number' });
    const t = time[i];
    if (typeof t !== 'string' || t.length > 40 || !TIME_RE.test(t)) issues.push({ path: `/series/time/${i}`, reason: 'not an ISO-8601 time with zone' });
    const s = seq[i]!;
    if (issues.length === 0) {
      const data: TelemetryMessage['data'] = u === undefined
        ? { site, edge, device: d!, metric: m!, value: v as number, time: t as string }
        : { site, edge, device: d!, metric: m!, value: v as number, unit: u, time: t as string };
      out[i] = { seq: s, ok: true, msg: { seq: s, type: 'telemetry', data } };
    } else {
      // The reading as sent, dictionary entries resolved even when refused, so its dead letter says what came.
      const raw = { seq: s, device: entry(devices, device[i]), metric: entry(metrics, metric[i]), unit: entry(units, unit[i]), value: v, time: t };
      out[i] = { seq: s, ok: false, issues, raw };
    }
  }
  return out;
}
