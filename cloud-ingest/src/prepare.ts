/**
 * Turns raw envelope text into an IngestBatch: the envelope's outer shape must be valid (else the whole
 * envelope is one dead letter), while each message is checked on its own, so a bad message is recorded
 * in its place in the sequence and never blocks or drops a valid one next to it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_DECODE_LIMITS, ENVELOPE_V2, Envelope, EnvelopeV2, UplinkMessage, decodeIssues, expandSeries, seriesShapeIssues, validator, withinDecodeLimits, type Issue, type TelemetrySeries, type UplinkType } from '@safe-community/contracts';
import type { BatchItem, DeadLetterRecord, IngestBatch } from './store/types.js';
import { saneTime, type TimeWindow } from './time-sanity.js';

export const MAX_DEAD_LETTER_BYTES = 64 * 1024;

/** The envelope without its messages' schema (or its series' columns): what must hold for the batch to be placed at all. */
const EnvelopeShell = Type.Object({ ...Envelope.properties, messages: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false });
const EnvelopeV2Shell = Type.Object(
  { ...EnvelopeV2.properties, messages: Type.Array(Type.Unknown(), { maxItems: 10_000 }), series: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
const shellValidator = validator('Envelope', EnvelopeShell);
const shellV2Validator = validator('EnvelopeV2', EnvelopeV2Shell);
/** The shell's validator by the envelope's own version, so its issues name the fields of that version. */
const shellFor = (v: unknown): typeof shellValidator | typeof shellV2Validator =>
  v && typeof v === 'object' && (v as { v?: unknown }).v === ENVELOPE_V2 ? shellV2Validator : shellValidator;

/** One compiled validator per message type: dispatching on `type` is much cheaper than checking the whole union. */
const byType = new Map<string, ReturnType<typeof validator>>();
for (const member of UplinkMessage.anyOf) {
  const type = (member.properties.type as { const: string }).const;
  byType.set(type, validator(`UplinkMessage(${type})`, member));
}

export type Prepared =
  | { kind: 'batch'; batch: IngestBatch; /** Records stored at the ingest time instead of their own (time-sanity.ts). */ clockAdjusted: number }
  | { kind: 'dead'; record: DeadLetterRecord; issues: Issue[] };

/** Cuts text to 64 KiB and removes NUL, which PostgreSQL text cannot hold. */
export function clip(text: string): string {
  let out = text;
  if (Buffer.byteLength(out) > MAX_DEAD_LETTER_BYTES) out = Buffer.from(out).subarray(0, MAX_DEAD_LETTER_BYTES).toString('utf8');
  return out.includes('\u0000') ? out.replaceAll('\u0000', '\\u0000') : out;
}

export const describeIssues = (issues: readonly Issue[]): string =>
  issues.slice(0, 3).map((i) => `${i.path || '/'}: ${i.reason}`).join('; ') + (issues.length > 3 ? ` (+${issues.length - 3} more)` : '');

/** The per-record decode limits applied to the messages array as a whole: each record sits one level down. */
const MESSAGES_LIMITS = { ...DEFAULT_DECODE_LIMITS, maxDepth: DEFAULT_DECODE_LIMITS.maxDepth + 1 };

function messageIssues(m: unknown, withinLimits: boolean): Issue[] {
  // Decode limits first: a record nested thousands deep or holding NUL passes the schema but no store (issue 13).
  const limits = withinLimits ? [] : decodeIssues(m);
  if (limits.length > 0) return limits;
  const type = m && typeof m === 'object' ? (m as { type?: unknown }).type : undefined;
  const v = typeof type === 'string' ? byType.get(type) : undefined;
  if (!v) return [{ path: '/type', reason: `unknown message type ${JSON.stringify(type)}` }];
  return v.check(m) ? [] : v.issues(m);
}

const seqOf = (m: unknown): number | null => {
  const s = m && typeof m === 'object' ? (m as { seq?: unknown }).seq : undefined;
  return typeof s === 'number' && Number.isSafeInteger(s) && s >= 1 ? s : null;
};

/**
 * @param raw the payload as received (Buffer or text), or an already parsed body (HTTP)
 * @param expectedEdge the edge named by the topic; an envelope claiming another edge is refused
 */
export function prepareEnvelope(raw: Buffer | string | unknown, source: string, expectedEdge?: string, opts: { time?: TimeWindow } = {}): Prepared {
  const text = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : undefined;
  const dead = (code: string, issues: Issue[], edge: string | null): Prepared => ({
    kind: 'dead',
    issues,
    record: { source, edge, seq: null, code, reason: describeIssues(issues), payload: clip(text ?? safeStringify(raw)) },
  });
  let value: unknown = raw;
  if (text !== undefined) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      return dead('ERR_NOT_JSON', [{ path: '', reason: `not JSON: ${(err as Error).message}` }], expectedEdge ?? null);
    }
  }
  // The shell without its messages: they are checked one by one below, so one bad record stays alone.
  const shell = shellFor(value);
  if (!shell.check(value)) return dead('ERR_VALIDATION', shell.issues(value), expectedEdge ?? null);
  const env = value as Static<typeof EnvelopeShell> | Static<typeof EnvelopeV2Shell>;
  if (expectedEdge !== undefined && env.edge !== expectedEdge) {
    return dead('ERR_EDGE_MISMATCH', [{ path: '/edge', reason: `envelope edge ${env.edge} on the topic of edge ${expectedEdge}` }], expectedEdge);
  }

  // v2: the columnar block is checked as a whole first; a malformed one refuses the envelope like a bad shell.
  const series = env.v === ENVELOPE_V2 && env.series !== undefined ? env.series : undefined;
  if (series !== undefined) {
    const shape = seriesShapeIssues(series);
    if (shape.length > 0) return dead('ERR_VALIDATION', shape, env.edge);
  }
  const seriesRows = series === undefined ? 0 : (series as TelemetrySeries).seq.length;
  if (env.messages.length + seriesRows === 0) return dead('ERR_VALIDATION', [{ path: '/messages', reason: 'the envelope holds no record' }], env.edge);
  if (env.messages.length + seriesRows > 10_000) {
    return dead('ERR_VALIDATION', [{ path: '/messages', reason: `${env.messages.length + seriesRows} records exceed 10000` }], env.edge);
  }

  // A message whose own seq is unusable takes the place implied by its neighbours (the outbox numbers
  // records consecutively), so it is accounted for and the cursor can move past it.
  const seqs = env.messages.map(seqOf);
  for (let i = 1; i < seqs.length; i++) if (seqs[i] === null && seqs[i - 1] != null) seqs[i] = seqs[i - 1]! + 1;
  for (let i = seqs.length - 2; i >= 0; i--) if (seqs[i] === null && seqs[i + 1] != null && seqs[i + 1]! > 1) seqs[i] = seqs[i + 1]! - 1;
  if (seriesRows === 0 && seqs.every((s) => s === null)) {
    return dead('ERR_VALIDATION', [{ path: '/messages', reason: 'no message carries a usable seq' }], env.edge);
  }

  const items: BatchItem[] = [];
  let clockAdjusted = 0;
  // One walk over all records (nearly always within the limits) instead of one call per record; only when
  // it fails is each record walked on its own, to find which one and where.
  const allWithinLimits = withinDecodeLimits(env.messages, MESSAGES_LIMITS);
  env.messages.forEach((m, i) => {
    const seq = seqs[i];
    if (seq == null) return;
    const issues = messageIssues(m, allWithinLimits);
    if (issues.length === 0) issues.push(...originIssues(m as UplinkMessage, env.edge, env.site));
    if (issues.length === 0) {
      const sane = opts.time ? saneTime(m as UplinkMessage, opts.time) : { msg: m as UplinkMessage, adjusted: false };
      if (sane.adjusted) clockAdjusted++;
      items.push({ seq, ok: true, msg: sane.msg });
    }
    else {
      const prefixed = issues.map((x) => ({ path: `/messages/${i}${x.path}`, reason: x.reason }));
      items.push({ seq, ok: false, code: 'ERR_VALIDATION', reason: describeIssues(prefixed), payload: clip(safeStringify(m)) });
    }
  });
  if (series !== undefined) clockAdjusted += addSeries(items, series as TelemetrySeries, env.site, env.edge, opts.time);
  // Sorted by seq, first occurrence wins: the outbox never reuses a seq, so a repeat is a resend.
  items.sort((a, b) => a.seq - b.seq);
  const unique = items.filter((it, i) => i === 0 || it.seq !== items[i - 1]!.seq);
  return { kind: 'batch', clockAdjusted, batch: { edge: env.edge, site: env.site, source, ...(env.epoch ? { epoch: env.epoch } : {}), items: unique } };
}

/** The readings of a v2 block as batch items: each refused one alone, under its seq. Returns how many were clock-adjusted. */
function addSeries(items: BatchItem[], series: TelemetrySeries, site: string, edge: string, time: TimeWindow | undefined): number {
  let adjusted = 0;
  for (const row of expandSeries(series, site, edge)) {
    if (row.ok) {
      const sane = time ? saneTime(row.msg, time) : { msg: row.msg, adjusted: false };
      if (sane.adjusted) adjusted++;
      items.push({ seq: row.seq, ok: true, msg: sane.msg });
    } else {
      items.push({ seq: row.seq, ok: false, code: 'ERR_VALIDATION', reason: describeIssues(row.issues), payload: clip(safeStringify(row.raw)) });
    }
  }
  return adjusted;
}

/**
 * A record speaks for the edge and site of its envelope only: an edge (whose credentials are scoped to
 * itself) must not write another edge's or another site's data through its own connection.
 */
function originIssues(m: UplinkMessage, edge: string, site: string): Issue[] {
  const out: Issue[] = [];
  if (m.data.site !== site) out.push({ path: '/data/site', reason: `record of site ${m.data.site} in an envelope of site ${site}` });
  if (m.data.edge !== undefined && m.data.edge !== edge) out.push({ path: '/data/edge', reason: `record of edge ${m.data.edge} in an envelope of edge ${edge}` });
  return out;
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    // A value JSON cannot express (a cycle) is still recorded, as its string form.
    return String(v);
  }
}

export type { UplinkType };
