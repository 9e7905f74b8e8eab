/** Elderly care: residents' wearables (last seen, battery, vitals), SOS and falls, open alarms, a map. */
import { PanelBuilder as GeomapPanel, MapViewConfigBuilder } from '@grafana/grafana-foundation-sdk/geomap';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { FrameGeometrySourceMode, MapLayerOptionsBuilder, FrameGeometrySourceBuilder } from '@grafana/grafana-foundation-sdk/common';
import { Board, links } from '../grafana.js';
import { timeBin, timeFilter, timeFrom, timeTo } from '../macros.js';
import { activeAlarm, byBuilding, bySite, deviceInBuilding } from '../filters.js';
import { col, inList, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const ELDERLY_CARE_UID = 'sc-elderly-care';

/**
 * Adds `latest`: the newest point of each wearable metric per device, within the range or the day before
 * its end, whichever is longer. Two steps, because DISTINCT ON sorted every row of the window (about a
 * second at 50 wearables, bench/dashboards.ts): a hash aggregate finds each series' newest time, then
 * only the rows from the oldest of those times on are read back for their values. A wearable silent for
 * longer than the window drops off; the device-offline alert rule covers it.
 */
function withLatestWearable(q: Query, metrics: string[]): Query {
  const last = Query.from('telemetry t')
    .select(col.text('t.device', 'device'), col.text('t.site', 'site'), col.text('t.metric', 'metric'), col.time('max(t.time)', 'time'))
    .where(
      inList('t.metric', metrics),
      `t.time > LEAST(${timeFrom()}::timestamptz, ${timeTo()}::timestamptz - INTERVAL '1 day')`,
      `t.time <= ${timeTo()}::timestamptz`,
      bySite('t'),
      deviceInBuilding('t.device'),
    )
    .groupBy('1', '2', '3');
  const latest = Query.from('last s')
    .join('JOIN telemetry v ON v.device = s.device AND v.metric = s.metric AND v.time = s.time')
    .select(col.text('s.device', 'device'), col.text('s.site', 'site'), col.text('s.metric', 'metric'), col.num('v.value', 'value'), col.time('s.time', 'time'))
    .where('v.time >= (SELECT min(m.time) FROM last m)', `v.time <= ${timeTo()}::timestamptz`);
  return q.with('last', last).with('latest', latest);
}

const pick = (metric: string): string => `max(l.value) FILTER (WHERE l.metric = '${metric}')`;

export function elderlyCare(opts: BoardOptions): BuiltBoard {
  const b = new Board(ELDERLY_CARE_UID);
  const title = 'Elderly care';

  const residents = withLatestWearable(Query.from('latest l'), ['wearable.heart_rate', 'wearable.spo2', 'wearable.battery', 'wearable.steps', 'wearable.lat', 'wearable.lon'])
    .select(
      col.text('l.device', 'wearable'),
      col.text('l.site', 'site'),
      col.time('max(l.time)', 'last_seen'),
      col.num('extract(epoch FROM now() - max(l.time))::float8', 'last_seen_ago_s'),
      col.num(pick('wearable.battery'), 'battery_pct'),
      col.num(pick('wearable.heart_rate'), 'heart_rate_bpm'),
      col.num(pick('wearable.spo2'), 'spo2_pct'),
    )
    .groupBy('l.device', 'l.site')
    .orderBy('last_seen');

  const vitals = (metric: string): Query =>
    Query.from('telemetry t')
      .select(col.time(timeBin('t.time')), col.text('t.device', 'wearable'), col.num('avg(t.value)', 'value'))
      .where(timeFilter('t.time'), `t.metric = '${metric}'`, bySite('t'), deviceInBuilding('t.device'))
      .groupBy('1', '2')
      .orderBy('1');

  const sosFalls = Query.from('events e')
    .select(col.time('e.time', 'time'), col.text('e.site', 'site'), col.text("e.tags->>'building'", 'building'), col.text('e.device', 'wearable'), col.text('e.kind', 'kind'))
    .where(timeFilter('e.time'), inList('e.kind', ['wearable.sos', 'wearable.fall']), bySite('e'), byBuilding('e'))
    .orderBy('e.time DESC')
    .limit(200);

  const careAlarms = Query.from('alarms a')
    .select(
      col.text('a.id::text', 'id'),
      col.text('a.severity', 'severity'),
      col.text('a.state', 'state'),
      col.text('a.site', 'site'),
      col.text('a.device', 'wearable'),
      col.text('a.type', 'type'),
      col.time('a.raised_at', 'raised_at'),
      col.num('extract(epoch FROM now() - a.raised_at)::float8', 'age_s'),
    )
    .where("a.type LIKE 'wearable.%'", activeAlarm('a'), bySite('a'), byBuilding('a'))
    .orderBy('a.raised_at');

  const positions = withLatestWearable(Query.from('latest l'), ['wearable.lat', 'wearable.lon'])
    .select(col.text('l.device', 'wearable'), col.text('l.site', 'site'), col.num(pick('wearable.lat'), 'latitude'), col.num(pick('wearable.lon'), 'longitude'), col.time('max(l.time)', 'last_seen'))
    .groupBy('l.device', 'l.site')
    .having("count(DISTINCT l.metric) = 2");

  const alarmPage = '${ALARM_PAGE_URL}/alarms/${__data.fields.id}';
  const dash = frame(b, title, opts, ['care'])
    .withPanel(
      new TablePanel()
        .title('Residents')
        .description("Each resident's wearable: last seen, battery and latest vitals.")
        .span(14)
        .withTarget(b.target('Residents', residents)),
    )
    .withPanel(
      new GeomapPanel()
        .title('Last known location')
        .span(10)
        .view(new MapViewConfigBuilder().id('fit').zoom(14))
        .layers([
          new MapLayerOptionsBuilder()
            .type('markers')
            .name('Residents')
            .tooltip(true)
            .location(new FrameGeometrySourceBuilder().mode(FrameGeometrySourceMode.Coords).latitude('latitude').longitude('longitude')),
        ])
        .withTarget(b.target('Last known location', positions)),
    )
    .withPanel(new TimeSeriesPanel().title('Heart rate').unit('bpm').span(8).withTarget(b.target('Heart rate', vitals('wearable.heart_rate'), 'time_series')))
    .withPanel(new TimeSeriesPanel().title('SpO2').unit('percent').span(8).withTarget(b.target('SpO2', vitals('wearable.spo2'), 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Battery').unit('percent').span(8).withTarget(b.target('Battery', vitals('wearable.battery'), 'time_series')))
    .withPanel(new TablePanel().title('SOS and falls').span(12).withTarget(b.target('SOS and falls', sosFalls)))
    .withPanel(
      new TablePanel()
        .title('Open care alarms')
        .span(12)
        .overrideByName('id', [links({ title: 'Open alarm page', url: alarmPage })])
        .withTarget(b.target('Open care alarms', careAlarms)),
    );
  return finish(b, title, dash);
}
