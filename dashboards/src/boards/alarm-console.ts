/** Alarm console: what security staff watch; open alarms first, links to the alarm page, its snapshot and its video clips. */
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { Board, links } from '../grafana.js';
import { timeBin, timeFilter } from '../macros.js';
import { activeAlarm, byBuilding, bySite, severityRank } from '../filters.js';
import { col, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const ALARM_CONSOLE_UID = 'sc-alarm-console';

export function alarmConsole(opts: BoardOptions): BuiltBoard {
  const b = new Board(ALARM_CONSOLE_UID);
  const title = 'Alarm console';

  // Every severity appears, even with none open, so a zero is visible rather than a missing tile.
  const bySeverity = Query.from("(VALUES ('critical'), ('major'), ('minor'), ('info')) s(severity)")
    .join(`LEFT JOIN alarms a ON a.severity = s.severity AND ${activeAlarm('a')} AND ${bySite('a')} AND ${byBuilding('a')}`)
    .select(col.text('s.severity', 'severity'), col.num('count(a.id)', 'open'))
    .groupBy('s.severity')
    .orderBy(severityRank('s.severity'));

  // The 200 most urgent alarms are picked first, so the snapshot lookup runs for those rows only. A snapshot
  // reference in the alarm's tags wins; otherwise it comes from the source event, found through the
  // (site, kind, time) index when the alarm's type is the event's kind and it was raised within minutes.
  // Events have no index on id; a time-only window took seconds with hundreds of open alarms
  // (bench/dashboards.ts).
  const urgent =
    `(SELECT * FROM alarms a WHERE ${activeAlarm('a')} AND ${bySite('a')} AND ${byBuilding('a')} ` +
    `ORDER BY ${severityRank('a.severity')}, a.raised_at LIMIT 200) a`;
  const active = Query.from(urgent)
    .join(
      "LEFT JOIN LATERAL (SELECT COALESCE(e.payload->>'snapshotUrl', e.payload->>'snapshot') AS snapshot FROM events e " +
        "WHERE a.source_event_id IS NOT NULL AND a.tags->>'snapshot' IS NULL AND e.site = a.site AND e.kind = a.type " +
        "AND e.id = a.source_event_id AND e.time BETWEEN a.raised_at - INTERVAL '10 minutes' AND a.raised_at + INTERVAL '1 minute' LIMIT 1) snap ON TRUE",
    )
    .select(
      col.text('a.id::text', 'id'),
      col.text('a.severity', 'severity'),
      col.text('a.state', 'state'),
      col.text('a.site', 'site'),
      col.text("a.tags->>'building'", 'building'),
      col.text('a.device', 'device'),
      col.text('a.type', 'type'),
      col.text('a.message', 'message'),
      col.num('a.count', 'repeats'),
      col.time('a.raised_at', 'raised_at'),
      col.num('extract(epoch FROM now() - a.raised_at)::float8', 'age_s'),
      col.text("COALESCE(a.tags->>'snapshot', snap.snapshot)", 'snapshot'),
      // Video clips uploaded for the alarm's source event (issue 16); the alarm page plays them.
      col.num("(SELECT count(*) FROM evidence_clips c WHERE c.site = a.site AND c.trigger_event = a.source_event_id AND c.status = 'ready')", 'clips'),
    )
    .orderBy(severityRank('a.severity'), 'a.raised_at');

  const raised = Query.from('alarms a')
    .select(col.time(timeBin('a.raised_at')), col.text('a.severity', 'severity'), col.num('count(*)', 'alarms'))
    .where(timeFilter('a.raised_at'), bySite('a'), byBuilding('a'))
    .groupBy('1', '2')
    .orderBy('1');

  const secs = (to: string): string => `extract(epoch FROM a.${to} - a.raised_at)::float8`;
  const pct = (p: number, to: string): string => `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${secs(to)})`;
  const response = Query.from('alarms a')
    .select(
      col.text('a.severity', 'severity'),
      col.num('count(*)', 'raised'),
      col.num('count(a.acknowledged_at)', 'acknowledged'),
      col.num(pct(0.5, 'acknowledged_at'), 'ack_p50_s'),
      col.num(pct(0.9, 'acknowledged_at'), 'ack_p90_s'),
      col.num(pct(0.5, 'resolved_at'), 'resolve_p50_s'),
      col.num(pct(0.9, 'resolved_at'), 'resolve_p90_s'),
    )
    .where(timeFilter('a.raised_at'), bySite('a'), byBuilding('a'))
    .groupBy('a.severity')
    .orderBy(severityRank('a.severity'));

  const responseTrend = Query.from('alarms a')
    .select(col.time(timeBin('a.raised_at')), col.num(`avg(${secs('acknowledged_at')})`, 'time_to_ack_s'), col.num(`avg(${secs('resolved_at')})`, 'time_to_resolve_s'))
    .where(timeFilter('a.raised_at'), bySite('a'), byBuilding('a'))
    .groupBy('1')
    .orderBy('1');

  const alarmPage = '${ALARM_PAGE_URL}/alarms/${__data.fields.id}';
  const dash = frame(b, title, opts, ['alarms'])
    .withPanel(
      new StatPanel()
        .title('Open alarms by severity')
        .span(24)
        .height(5)
        .reduceOptions(new ReduceDataOptionsBuilder().values(true).calcs(['lastNotNull']).fields('/^open$/'))
        .withTarget(b.target('Open alarms by severity', bySeverity)),
    )
    .withPanel(
      new TablePanel()
        .title('Active alarms')
        .description('Open, acknowledged and dispatched alarms, most severe first. Click an id for the alarm page, a clips count for its video.')
        .span(24)
        .height(12)
        .unit('s')
        .overrideByName('id', [links({ title: 'Open alarm page', url: alarmPage })])
        .overrideByName('snapshot', [links({ title: 'Open snapshot', url: `${alarmPage}/snapshot` })])
        .overrideByName('raised_at', [{ id: 'unit', value: 'dateTimeAsIso' }])
        .overrideByName('repeats', [{ id: 'unit', value: 'none' }])
        .overrideByName('clips', [{ id: 'unit', value: 'none' }, links({ title: 'Play the video on the alarm page', url: `${alarmPage}#clips-box` })])
        .withTarget(b.target('Active alarms', active)),
    )
    .withPanel(
      new TimeSeriesPanel()
        .title('Alarms raised')
        .span(12)
        .withTarget(b.target('Alarms raised', raised, 'time_series')),
    )
    .withPanel(
      new TimeSeriesPanel()
        .title('Time to acknowledge and resolve')
        .unit('s')
        .span(12)
        .withTarget(b.target('Time to acknowledge and resolve', responseTrend, 'time_series')),
    )
    .withPanel(
      new TablePanel()
        .title('Response times by severity')
        .unit('s')
        .span(24)
        .overrideByRegexp('^(raised|acknowledged)$', [{ id: 'unit', value: 'none' }])
        .withTarget(b.target('Response times by severity', response)),
    );
  return finish(b, title, dash);
}
