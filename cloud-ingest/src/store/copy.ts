/**
 * Telemetry through COPY … FROM STDIN (text format): the bulk path for large batches, inside the same
 * transaction as the cursor update, so it is as idempotent as the insert path.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TelemetryItem } from './write.js';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return are escaped; \N is NULL. */
export function copyText(v: string | null | undefined): string {
  if (v == null) return '\\N';
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * The envelope's rows as one COPY text, handed to the socket in one write. In chunks (2,000 rows each,
 * yielded through a stream) the COPY waited on the event loop between chunks while it parsed other
 * envelopes: the transaction, and the cursor row lock it holds, lasted that much longer (issue #19). An
 * envelope holds at most 10,000 records, so the text stays around a megabyte.
 */
export function telemetryCopyText(edge: string, rows: readonly TelemetryItem[]): string {
  const e = copyText(edge);
  let out = '';
  for (const { seq, data: d } of rows) {
    out += `${e}\t${seq}\t${copyText(d.site)}\t${copyText(d.device)}\t${copyText(d.metric)}\t${d.value}\t${copyText(d.unit)}\t${copyText(d.time)}\n`;
  }
  return out;
}

export const TELEMETRY_COPY_SQL = 'COPY telemetry (edge, seq, site, device, metric, value, unit, time) FROM STDIN';

export async function copyTelemetry(client: pg.PoolClient | pg.Client, edge: string, rows: TelemetryItem[]): Promise<void> {
  const sink = client.query(copyFrom(TELEMETRY_COPY_SQL));
  await pipeline(Readable.from([telemetryCopyText(edge, rows)]), sink);
}
