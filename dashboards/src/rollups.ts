/**
 * Long ranges read the rollups (issue 17): a panel whose bins are 5 minutes or wider reads the per-minute
 * rollup `telemetry_1m` (a TimescaleDB continuous aggregate with real-time aggregation, or the plain
 * variant's materialized view refreshed every minute, migrations 0004 and 0080) instead of every raw row;
 * narrower bins read raw telemetry. Both branches are in one query, gated on Grafana's interval: the gate
 * is a constant once the macros are expanded, so PostgreSQL runs only one branch.
 */
import { timeFilter } from './macros.js';
import { eq } from './sql.js';

/** Bins this wide or wider are made from per-minute buckets; any multiple of a minute lines up with them. */
export const ROLLUP_FROM_MS = 300_000;

/**
 * The rows of one metric as (at, site, device, total, n): raw telemetry (each row its own total, n = 1) for
 * narrow bins, per-minute buckets (avg × n, n) for wide ones. `sum(total) / sum(n)` over a bin is then its
 * exact average either way. Positions are not in the rollups (migration 0080): never pass wearable.lat/lon.
 */
export function metricSource(metric: string): string {
  return [
    'SELECT t.time AS at, t.site, t.device, t.value AS total, 1::bigint AS n',
    'FROM telemetry t',
    `WHERE $__interval_ms < ${ROLLUP_FROM_MS} AND ${timeFilter('t.time')} AND ${eq('t.metric', metric)}`,
    'UNION ALL',
    'SELECT r.bucket, r.site, r.device, r.avg * r.n, r.n',
    'FROM telemetry_1m r',
    `WHERE $__interval_ms >= ${ROLLUP_FROM_MS} AND ${timeFilter('r.bucket')} AND ${eq('r.metric', metric)}`,
  ].join('\n');
}

/** The average of a bin of metricSource() rows. */
export const binAverage = (alias: string): string => `sum(${alias}.total) / sum(${alias}.n)::float8`;
