/** Edge health: the agents' own metrics (inference, frame rate, outbox, uplink, CPU and memory). */
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { Board } from '../grafana.js';
import { timeBin, timeFilter, timeTo } from '../macros.js';
import { bySite } from '../filters.js';
import { col, eq, inList, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const EDGE_HEALTH_UID = 'sc-edge-health';

/** Metric, panel title, Grafana unit, and how a bin is summarised (counters add up, gauges average). */
const METRICS: { metric: string; title: string; unit: string; agg: 'avg' | 'max' | 'sum' }[] = [
  { metric: 'edge.inference_ms', title: 'Inference time', unit: 'ms', agg: 'avg' },
  { metric: 'edge.fps', title: 'Frames per second', unit: 'none', agg: 'avg' },
  { metric: 'edge.dropped_frames', title: 'Dropped frames', unit: 'none', agg: 'sum' },
  { metric: 'edge.outbox_depth', title: 'Outbox depth', unit: 'none', agg: 'max' },
  { metric: 'edge.outbox_oldest_age_s', title: 'Outbox oldest record age', unit: 's', agg: 'max' },
  { metric: 'edge.uplink_lag_ms', title: 'Uplink lag', unit: 'ms', agg: 'avg' },
  { metric: 'edge.cpu_percent', title: 'CPU', unit: 'percent', agg: 'avg' },
  { metric: 'edge.memory_mb', title: 'Memory', unit: 'decmbytes', agg: 'max' },
];

export function edgeHealth(opts: BoardOptions): BuiltBoard {
  const b = new Board(EDGE_HEALTH_UID);
  const title = 'Edge health';

  // Every edge the cloud knows (its ingest cursor), with its last uplink commit and the latest of its
  // metrics in the 15 minutes before the range end; a silent edge still shows, with empty figures.
  const latest = Query.from('telemetry t')
    .distinctOn('t.edge', 't.metric')
    .select(col.text('t.edge', 'edge'), col.text('t.metric', 'metric'), col.num('t.value', 'value'), col.time('t.time', 'time'))
    .where(
      `t.time > ${timeTo()}::timestamptz - INTERVAL '15 minutes'`,
      `t.time <= ${timeTo()}::timestamptz`,
      inList('t.metric', METRICS.map((m) => m.metric)),
      bySite('t'),
    )
    .orderBy('t.edge', 't.metric', 't.time DESC');
  const pick = (metric: string): string => `max(l.value) FILTER (WHERE l.metric = '${metric}')`;
  const edges = Query.from('edge_cursor c')
    .with('latest', latest)
    .join('LEFT JOIN latest l ON l.edge = c.edge')
    .select(
      col.text('c.edge', 'edge'),
      col.text('c.site', 'site'),
      col.time('c.updated_at', 'last_uplink'),
      col.num('extract(epoch FROM now() - c.updated_at)::float8', 'uplink_silent_s'),
      col.num('c.last_seq', 'last_seq'),
      col.num(pick('edge.outbox_depth'), 'outbox_depth'),
      col.num(pick('edge.outbox_oldest_age_s'), 'outbox_oldest_age_s'),
      col.num(pick('edge.inference_ms'), 'inference_ms'),
      col.num(pick('edge.fps'), 'fps'),
    )
    .where(bySite('c'))
    .groupBy('c.edge', 'c.site', 'c.updated_at', 'c.last_seq')
    .orderBy('c.edge');

  let dash = frame(b, title, opts, ['edge']).withPanel(
    new TablePanel().title('Edges').description('Each edge: last uplink commit, and its latest metrics before the range end.').span(24).height(6).withTarget(b.target('Edges', edges)),
  );
  for (const m of METRICS) {
    const q = Query.from('telemetry t')
      .select(col.time(timeBin('t.time')), col.text('t.edge', 'edge'), col.num(`${m.agg}(t.value)`, 'value'))
      .where(timeFilter('t.time'), eq('t.metric', m.metric), bySite('t'))
      .groupBy('1', '2')
      .orderBy('1');
    dash = dash.withPanel(new TimeSeriesPanel().title(m.title).unit(m.unit).span(12).height(7).withTarget(b.target(m.title, q, 'time_series')));
  }
  return finish(b, title, dash);
}
