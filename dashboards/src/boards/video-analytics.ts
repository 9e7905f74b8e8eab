/** Video analytics: line and zone counts per hour, detections by class, crowding, camera uptime. */
import { PanelBuilder as PieChartPanel } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import { Board } from '../grafana.js';
import { timeBin, timeBinFixed, timeFilter, timeFrom, timeTo } from '../macros.js';
import { byBuilding, bySite } from '../filters.js';
import { col, inList, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const VIDEO_ANALYTICS_UID = 'sc-video-analytics';

/** Detected object class as the analytics rules report it. */
const CLASS = "COALESCE(e.payload->>'class', e.payload->>'label', 'unknown')";

export function videoAnalytics(opts: BoardOptions): BuiltBoard {
  const b = new Board(VIDEO_ANALYTICS_UID);
  const title = 'Video analytics';
  const scope = (...extra: string[]): string[] => [timeFilter('e.time'), ...extra, bySite('e'), byBuilding('e')];

  const lines = Query.from('events e')
    .select(
      col.time(timeBinFixed('e.time', '1 hour')),
      col.text("COALESCE(e.payload->>'line', 'line') || ' ' || COALESCE(e.payload->>'direction', '?')", 'line'),
      col.num('count(*)', 'crossings'),
    )
    .where(...scope("e.kind = 'video.line_crossing'"))
    .groupBy('1', '2')
    .orderBy('1');

  const zones = Query.from('events e')
    .select(col.time(timeBinFixed('e.time', '1 hour')), col.text("COALESCE(e.payload->>'zone', e.tags->>'zone', 'zone')", 'zone'), col.num('count(*)', 'intrusions'))
    .where(...scope("e.kind = 'video.zone_intrusion'"))
    .groupBy('1', '2')
    .orderBy('1');

  const classes = Query.from('events e')
    .select(col.text(CLASS, 'class'), col.num('count(*)', 'detections'))
    .where(...scope("e.kind LIKE 'video.%'"))
    .groupBy('1')
    .orderBy('2 DESC');

  const crowd = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text("COALESCE(e.payload->>'zone', e.device)", 'zone'), col.num("max((e.payload->>'count')::float8)", 'people'))
    .where(...scope("e.kind = 'video.crowd'"))
    .groupBy('1', '2')
    .orderBy('1');

  // Offline time is the span from each camera.offline to the camera's next transition (or the range end).
  // A camera already offline when the range starts is counted from its first event in range only.
  const transitions = Query.from('events e')
    .select(
      col.text('e.device', 'device'),
      col.text('e.kind', 'kind'),
      col.time('e.time', 'time'),
      col.time(`LEAST(COALESCE(lead(e.time) OVER (PARTITION BY e.device ORDER BY e.time), ${timeTo()}::timestamptz), ${timeTo()}::timestamptz)`, 'until'),
    )
    .where(...scope(inList('e.kind', ['camera.offline', 'camera.online'])));
  const offlineSecs = "COALESCE(sum(extract(epoch FROM t.until - t.time)) FILTER (WHERE t.kind = 'camera.offline'), 0)::float8";
  const uptime = Query.from('transitions t')
    .with('transitions', transitions)
    .select(
      col.text('t.device', 'camera'),
      col.num(offlineSecs, 'offline_s'),
      col.num(`100 * (1 - ${offlineSecs} / extract(epoch FROM ${timeTo()}::timestamptz - ${timeFrom()}::timestamptz))`, 'uptime_pct'),
      col.text("CASE (array_agg(t.kind ORDER BY t.time DESC))[1] WHEN 'camera.online' THEN 'online' ELSE 'offline' END", 'last_state'),
    )
    .groupBy('t.device')
    .orderBy('uptime_pct');

  const dash = frame(b, title, opts, ['video'])
    .withPanel(new TimeSeriesPanel().title('Line crossings per hour').drawStyle(GraphDrawStyle.Bars).span(12).withTarget(b.target('Line crossings per hour', lines, 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Zone intrusions per hour').drawStyle(GraphDrawStyle.Bars).span(12).withTarget(b.target('Zone intrusions per hour', zones, 'time_series')))
    .withPanel(
      new PieChartPanel()
        .title('Detections by class')
        .span(8)
        .reduceOptions(new ReduceDataOptionsBuilder().values(true).calcs(['lastNotNull']))
        .withTarget(b.target('Detections by class', classes)),
    )
    .withPanel(new TimeSeriesPanel().title('Crowding (people per zone)').span(16).withTarget(b.target('Crowding (people per zone)', crowd, 'time_series')))
    .withPanel(new TablePanel().title('Camera uptime').unit('s').overrideByName('uptime_pct', [{ id: 'unit', value: 'percent' }]).span(24).withTarget(b.target('Camera uptime', uptime)));
  return finish(b, title, dash);
}
