/**
 * Which store a benchmark ran on, and what its telemetry takes on disk (issue 17): on plain PostgreSQL the
 * day partitions with their indexes; on TimescaleDB the hypertable before and after every chunk is
 * compressed (what the compression policy does to chunks two days old), and the ratio of the two.
 */
import { compressAllChunks } from '@safe-community/testkit';

interface Db {
  query(sql: string): Promise<{ rows: any[] }>;
}

export type StoreName = 'postgres' | 'timescaledb';

export interface TelemetryStorage {
  store: StoreName;
  telemetry_rows: number;
  /** Table, indexes and TOAST, as the rows were written. */
  bytes: number;
  mb_per_million_rows: number;
  /** TimescaleDB: after compressing every chunk. */
  compressed_bytes?: number;
  compressed_mb_per_million_rows?: number;
  compression_ratio?: number;
}

export async function storeName(db: Db): Promise<StoreName> {
  const r = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  return r.rows.length > 0 ? 'timescaledb' : 'postgres';
}

const mbPerMillion = (bytes: number, rows: number): number => Math.round((bytes / 2 ** 20 / (rows / 1e6)) * 10) / 10;

/** Measures the telemetry table; on TimescaleDB this compresses every chunk, so call it after the timed part. */
export async function telemetryStorage(db: Db): Promise<TelemetryStorage> {
  const store = await storeName(db);
  const rows = Number((await db.query('SELECT count(*) AS n FROM telemetry')).rows[0].n);
  const size = async (): Promise<number> => Number((await db.query(store === 'timescaledb'
    ? `SELECT hypertable_size('telemetry') AS b`
    : `SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) AS b FROM pg_inherits WHERE inhparent = 'telemetry'::regclass`)).rows[0].b);
  const bytes = await size();
  const out: TelemetryStorage = { store, telemetry_rows: rows, bytes, mb_per_million_rows: mbPerMillion(bytes, rows) };
  if (store === 'timescaledb') {
    await compressAllChunks(db);
    const compressed = await size();
    out.compressed_bytes = compressed;
    out.compressed_mb_per_million_rows = mbPerMillion(compressed, rows);
    out.compression_ratio = Math.round((bytes / compressed) * 10) / 10;
  }
  return out;
}

export function storageLine(s: TelemetryStorage): string {
  const base = `telemetry on ${s.store}: ${s.telemetry_rows} rows, ${(s.bytes / 2 ** 20).toFixed(1)} MB (${s.mb_per_million_rows} MB per million rows)`;
  return s.compressed_bytes === undefined ? base
    : `${base}; compressed ${(s.compressed_bytes / 2 ** 20).toFixed(1)} MB (${s.compressed_mb_per_million_rows} MB per million rows), ratio ${s.compression_ratio}`;
}
