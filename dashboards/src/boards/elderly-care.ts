/**
 * Elderly care: a status board per resident (wearable figures and open care alarms), their last known
 * positions, vitals over time, care events, open care alarms and care incidents.
 *
 * Telemetry names are `wearable.<name>` as the edge sends them (firmware-configs `telemetryMetric`); the
 * care kinds are those of the edge care monitor (edge-agent/src/care). Residents come from the cloud's
 * `care_residents` (migration 0040), one per wearable.
 */
import { PanelBuilder as GeomapPanel, MapViewConfigBuilder } from '@grafana/grafana-foundation-sdk/geomap';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { FrameGeometrySourceMode, MapLayerOptionsBuilder, FrameGeometrySourceBuilder } from '@grafana/grafana-foundation-sdk/common';
import { Board, links } from '../grafana.js';
import { inVar, timeBin, timeFilter, timeFrom, timeTo } from '../macros.js';
import { binAverage, metricSource } from '../rollups.js';
import { activeAlarm, byBuilding, bySite, deviceInBuilding, severityRank } from '../filters.js';
import { and, col, inList, or, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const ELDERLY_CARE_UID = 'sc-elderly-care';

/** The wearable telemetry this board reads. */
export const WEARABLE_METRICS = Object.freeze({
  heartRate: 'wearable.heart_rate',
  spo2: 'wearable.spo2',
  battery: 'wearable.battery',
  steps: 'wearable.steps',
  lat: 'wearable.lat',
  lon: 'wearable.lon',
} as const);

/** Alarm types of the edge care monitor; each comes with an event of the same kind. */
export const CARE_ALARM_KINDS = [
  'care.sos', 'care.fall', 'care.wandering', 'care.inactivity', 'care.vitals', 'care.battery_low', 'care.device_silent',
] as const;
/** The care monitor's info events (no alarm). */
export const CARE_NOTICE_KINDS = ['care.fall_cancelled', 'care.vitals_cleared', 'care.wandering_ended', 'care.device_back'] as const;
/** What the wearable itself reports; the built-in linkage rule `wearable-sos` also alarms on `wearable.sos`. */
const WEARABLE_ALARM_KINDS = ['wearable.sos', 'wearable.fall'] as const;

/** Alarm types shown as care alarms, on the status board and in the open care alarms table. */
export const CARE_ALARM_TYPES: readonly string[] = [...CARE_ALARM_KINDS, ...WEARABLE_ALARM_KINDS];
/** Event kinds shown in the care events table. */
export const CARE_EVENT_KINDS: readonly string[] = [...WEARABLE_ALARM_KINDS, ...CARE_ALARM_KINDS, ...CARE_NOTICE_KINDS];

const pick = (metric: string): string => `max(l.value) FILTER (WHERE l.metric = '${metric}')`;

/**
 * Adds `w`: per wearable, its newest report time, its last fix time and the newest value of each metric,
 * within the range or the day before its end, whichever is longer. Two steps, because DISTINCT ON sorted
 * every row of the window (about a second at 50 wearables, bench/dashboards.ts): a hash aggregate finds
 * each series' newest time, then only the rows from the oldest of those times on are read back.
 * Only `metrics` are read (the map needs two of six). The building filter is applied by the caller: a
 * resident's own building decides, not the wearable's.
 */
function withWearables(q: Query, metrics: readonly string[] = Object.values(WEARABLE_METRICS)): Query {
  const last = Query.from('telemetry t')
    .select(col.text('t.device', 'device'), col.text('t.site', 'site'), col.text('t.metric', 'metric'), col.time('max(t.time)', 'time'))
    .where(
      inList('t.metric', metrics),
      `t.time > LEAST(${timeFrom()}::timestamptz, ${timeTo()}::timestamptz - INTERVAL '1 day')`,
      `t.time <= ${timeTo()}::timestamptz`,
      bySite('t'),
    )
    .groupBy('1', '2', '3');
  const latest = Query.from('last s')
    .join('JOIN telemetry v ON v.device = s.device AND v.metric = s.metric AND v.time = s.time')
    .select(col.text('s.device', 'device'), col.text('s.site', 'site'), col.text('s.metric', 'metric'), col.num('v.value', 'value'), col.time('s.time', 'time'))
    .where('v.time >= (SELECT min(m.time) FROM last m)', `v.time <= ${timeTo()}::timestamptz`);
  // One column per metric read, named after it (wearable.heart_rate → heart_rate); fix_at with a position.
  const w = Query.from('latest l')
    .select(
      col.text('l.device', 'device'),
      col.text('l.site', 'site'),
      col.time('max(l.time)', 'last_seen'),
      ...(metrics.includes(WEARABLE_METRICS.lat) ? [col.time(`max(l.time) FILTER (WHERE l.metric = '${WEARABLE_METRICS.lat}')`, 'fix_at')] : []),
      ...metrics.map((m) => col.num(pick(m), m.slice(m.indexOf('.') + 1))),
    )
    .groupBy('l.device', 'l.site');
  return q.with('last', last).with('latest', latest).with('w', w);
}

/**
 * Rows of `w` (wearable) and `r` (care_residents, either may be missing) in the chosen buildings: an
 * enrolled resident by their building (else their wearable's), a wearable without a resident by its events.
 */
const residentInBuilding = or(
  and('r.id IS NOT NULL', 'r.building IS NOT NULL', inVar('r.building', 'building')),
  and('r.id IS NOT NULL', 'r.building IS NULL', deviceInBuilding('r.wearable')),
  and('r.id IS NULL', deviceInBuilding('w.device')),
);

/** The alarms of one resident (by tag) or of their wearable (by device), among the care types. */
const alarmOfResident = (a: string): string =>
  `(${a}.tags->>'resident' = r.id OR ${a}.device = COALESCE(w.device, r.wearable))`;

/** The resident of an event or alarm row: by its `resident` tag, else as the wearer of its device. */
const residentOf = (x: string): string =>
  `LEFT JOIN care_residents r ON r.site = ${x}.site AND (r.id = ${x}.tags->>'resident' OR (${x}.tags->>'resident' IS NULL AND r.wearable = ${x}.device))`;

const SEVERITIES = "ARRAY['critical','major','minor','info']";

export function elderlyCare(opts: BoardOptions): BuiltBoard {
  const b = new Board(ELDERLY_CARE_UID);
  const title = 'Elderly care';

  const openAlarms = Query.from('alarms a')
    .select(col.num('count(*)::float8', 'n'), col.num(`min(${severityRank('a.severity')})`, 'worst'))
    .where('a.site = COALESCE(r.site, w.site)', activeAlarm('a'), inList('a.type', CARE_ALARM_TYPES), alarmOfResident('a'));

  // FULL JOIN: a wearable without a resident still shows, and so does an enrolled resident whose
  // wearable sent nothing in the window (empty figures, sorted first).
  const residents = withWearables(Query.from('w'))
    .join('FULL JOIN care_residents r ON r.site = w.site AND r.wearable = w.device')
    .join(`LEFT JOIN LATERAL (\n${openAlarms.toSql()}\n) oa ON TRUE`)
    .select(
      col.text('r.id', 'resident'),
      col.text('r.name', 'name'),
      col.text('COALESCE(r.site, w.site)', 'site'),
      col.text('r.building', 'building'),
      col.text('r.unit', 'unit'),
      col.text('COALESCE(w.device, r.wearable)', 'wearable'),
      col.time('w.last_seen', 'last_seen'),
      col.num('extract(epoch FROM now() - w.last_seen)::float8', 'last_seen_ago_s'),
      col.num('w.battery', 'battery_pct'),
      col.num('w.heart_rate', 'heart_rate_bpm'),
      col.num('w.spo2', 'spo2_pct'),
      col.num('w.steps', 'steps'),
      col.num('oa.n', 'open_alarms'),
      col.text(`(${SEVERITIES})[oa.worst]`, 'worst_severity'),
    )
    .where(or('r.id IS NULL', bySite('r')), residentInBuilding)
    .orderBy('oa.worst NULLS LAST', 'w.last_seen NULLS FIRST', 'r.id');

  const positions = withWearables(Query.from('w'), [WEARABLE_METRICS.lat, WEARABLE_METRICS.lon])
    .join('LEFT JOIN care_residents r ON r.site = w.site AND r.wearable = w.device')
    .select(
      col.text('COALESCE(r.name, w.device)', 'name'),
      col.text('r.id', 'resident'),
      col.text('w.device', 'wearable'),
      col.text('w.site', 'site'),
      col.num('w.lat', 'latitude'),
      col.num('w.lon', 'longitude'),
      col.time('w.fix_at', 'last_fix'),
    )
    .where('w.lat IS NOT NULL', 'w.lon IS NOT NULL', residentInBuilding);

  // Over long ranges from the per-minute rollup (rollups.ts); a week of a resident's vitals is 10k raw rows.
  const vitals = (metric: string): Query =>
    Query.from('src s')
      .with('src', metricSource(metric))
      .select(col.time(timeBin('s.at')), col.text('s.device', 'wearable'), col.num(binAverage('s'), 'value'))
      .where(bySite('s'), deviceInBuilding('s.device'))
      .groupBy('1', '2')
      .orderBy('1');

  const careEvents = Query.from('events e')
    .join(residentOf('e'))
    .select(
      col.time('e.time', 'time'),
      col.text('e.site', 'site'),
      col.text("e.tags->>'building'", 'building'),
      col.text("COALESCE(e.tags->>'resident', r.id)", 'resident'),
      col.text('r.name', 'name'),
      col.text('e.device', 'wearable'),
      col.text('e.kind', 'kind'),
      col.text('e.severity', 'severity'),
      col.text("e.payload->>'message'", 'message'),
    )
    .where(timeFilter('e.time'), inList('e.kind', CARE_EVENT_KINDS), bySite('e'), byBuilding('e'))
    .orderBy('e.time DESC')
    .limit(200);

  const careAlarms = Query.from('alarms a')
    .join(residentOf('a'))
    .select(
      col.text('a.id::text', 'id'),
      col.text('a.severity', 'severity'),
      col.text('a.state', 'state'),
      col.text('a.site', 'site'),
      col.text("COALESCE(a.tags->>'resident', r.id)", 'resident'),
      col.text('r.name', 'name'),
      col.text('a.device', 'wearable'),
      col.text('a.type', 'type'),
      col.text("a.tags->>'category'", 'category'),
      col.time('a.raised_at', 'raised_at'),
      col.num('extract(epoch FROM now() - a.raised_at)::float8', 'age_s'),
    )
    .where(inList('a.type', CARE_ALARM_TYPES), activeAlarm('a'), bySite('a'), byBuilding('a'))
    .orderBy(severityRank('a.severity'), 'a.raised_at');

  // Incidents group a resident's alarms (cloud-ingest alarms/incidents.ts): group key `resident:<id>`, or
  // `resident:<id>:<episode>` where the edge tagged the episode. Ids have no ':' (contracts Id).
  const incidentAlarms = Query.from('alarms a')
    .select(col.num('count(*)::float8', 'n'), col.num(`count(*) FILTER (WHERE ${activeAlarm('a')})::float8`, 'active'), col.text('string_agg(DISTINCT a.type, \', \')', 'types'))
    .where('a.incident_id = i.id', byBuilding('a'));
  const incidents = Query.from('incidents i')
    .join("LEFT JOIN care_residents r ON r.site = i.site AND r.id = split_part(i.group_key, ':', 2)")
    .join(`JOIN LATERAL (\n${incidentAlarms.toSql()}\n) ia ON ia.n > 0`)
    .select(
      col.time('i.opened_at', 'opened'),
      col.text('i.site', 'site'),
      col.text("split_part(i.group_key, ':', 2)", 'resident'),
      col.text('r.name', 'name'),
      col.text("NULLIF(split_part(i.group_key, ':', 3), '')", 'episode'),
      col.text('i.severity', 'severity'),
      col.text('i.state', 'state'),
      col.num('ia.n', 'alarms'),
      col.num('ia.active', 'active_alarms'),
      col.text('ia.types', 'types'),
      col.time('i.last_alarm_at', 'last_alarm'),
      col.time('i.closed_at', 'closed'),
    )
    .where("i.group_key LIKE 'resident:%'", or("i.state = 'open'", timeFilter('i.last_alarm_at')), bySite('i'))
    .orderBy("i.state = 'open' DESC", severityRank('i.severity'), 'i.opened_at DESC')
    .limit(200);

  const alarmPage = '${ALARM_PAGE_URL}/alarms/${__data.fields.id}';
  const dash = frame(b, title, opts, ['care'])
    .withPanel(
      new TablePanel()
        .title('Residents')
        .description('Each resident and each wearable: last seen, battery, latest vitals and steps, open care alarms and the worst of their severities. Residents whose wearable is silent are listed first after those with alarms.')
        .span(14)
        .withTarget(b.target('Residents', residents)),
    )
    .withPanel(
      new GeomapPanel()
        .title('Last known location')
        .description("Each resident's last position reported by their wearable.")
        .span(10)
        .view(new MapViewConfigBuilder().id('fit').zoom(14))
        .layers([
          new MapLayerOptionsBuilder()
            .type('markers')
            .name('Residents')
            .tooltip(true)
            .config({ showLegend: false, style: { text: { mode: 'field', field: 'name', fixed: '' }, textConfig: { fontSize: 12, offsetY: -16, textAlign: 'center', textBaseline: 'top' } } })
            .location(new FrameGeometrySourceBuilder().mode(FrameGeometrySourceMode.Coords).latitude('latitude').longitude('longitude')),
        ])
        .withTarget(b.target('Last known location', positions)),
    )
    .withPanel(new TimeSeriesPanel().title('Heart rate').unit('bpm').span(8).withTarget(b.target('Heart rate', vitals(WEARABLE_METRICS.heartRate), 'time_series')))
    .withPanel(new TimeSeriesPanel().title('SpO2').unit('percent').span(8).withTarget(b.target('SpO2', vitals(WEARABLE_METRICS.spo2), 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Battery').unit('percent').span(8).withTarget(b.target('Battery', vitals(WEARABLE_METRICS.battery), 'time_series')))
    .withPanel(
      new TablePanel()
        .title('Care events')
        .description('SOS and falls from the wearables, the care alarms raised at the edge, and their endings (fall cancelled by I\'m OK, vitals back in range, home again, wearable heard again).')
        .span(12)
        .withTarget(b.target('Care events', careEvents)),
    )
    .withPanel(
      new TablePanel()
        .title('Open care alarms')
        .span(12)
        .overrideByName('id', [links({ title: 'Open alarm page', url: alarmPage })])
        .withTarget(b.target('Open care alarms', careAlarms)),
    )
    .withPanel(
      new TablePanel()
        .title('Care incidents')
        .description("A resident's alarms close together form one incident; open incidents first, then those with an alarm in the range.")
        .span(24)
        .withTarget(b.target('Care incidents', incidents)),
    );
  return finish(b, title, dash);
}
