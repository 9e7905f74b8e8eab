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

const ROWS_PER_CHUNK = 2000;

function* chunks(edge: string, rows: TelemetryItem[]): Generator<string> {
  const e = copyText(edge);
  for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
    let out = '';
    const end = Math.min(rows.length, i + ROWS_PER_CHUNK);
    for (let j = i; j < end; j++) {
      const { seq, data: d } = rows[j]!;
      out += `${e}\t${seq}\t${copyText(d.site)}\t${copyText(d.device)}\t${copyText(d.metric)}\t${d.value}\t${copyText(d.unit)}\t${copyText(d.time)}\n`;
    }
    yield out;
  }
}

export const TELEMETRY_COPY_SQL = 'COPY telemetry (edge, seq, site, device, metric, value, unit, time) FROM STDIN';

export async function copyTelemetry(client: pg.PoolClient | pg.Client, edge: string, rows: TelemetryItem[]): Promise<void> {
  const sink = client.query(copyFrom(TELEMETRY_COPY_SQL));
  await pipeline(Readable.from(chunks(edge, rows)), sink);
}
