/** Site overview: device health, event rate, linkage activity and rejected input across the chosen sites. */
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { Board } from '../grafana.js';
import { ALL_VALUE, timeBin, timeFilter } from '../macros.js';
import { byBuilding, bySite, deviceInBuilding } from '../filters.js';
import { col, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const SITE_OVERVIEW_UID = 'sc-site-overview';

export function siteOverview(opts: BoardOptions): BuiltBoard {
  const b = new Board(SITE_OVERVIEW_UID);
  const title = 'Site overview';

  const devices = Query.from('device_status d')
    .select(col.num('count(*) FILTER (WHERE d.online)', 'online'), col.num('count(*) FILTER (WHERE NOT d.online)', 'offline'))
    .where(bySite('d'), deviceInBuilding('d.device'));

  const offline = Query.from('device_status d')
    .select(col.text('d.site', 'site'), col.text('d.edge', 'edge'), col.text('d.device', 'device'), col.time('d.at', 'offline_since'), col.num('extract(epoch FROM now() - d.at)::float8', 'offline_s'))
    .where('NOT d.online', bySite('d'), deviceInBuilding('d.device'))
    .orderBy('d.at')
    .limit(200);

  // Count per bin divided by the bin's minutes: a rate that does not change with the zoom level.
  const eventsPerMinute = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text("split_part(e.kind, '.', 1)", 'family'), col.num('(count(*) / ($__interval_ms / 60000.0))::float8', 'events_per_min'))
    .where(timeFilter('e.time'), bySite('e'), byBuilding('e'))
    .groupBy('1', '2')
    .orderBy('1');

  const linkageRuns = Query.from('linkage_executions l')
    .select(col.time(timeBin('l.time')), col.text('l.status', 'status'), col.num('count(*)', 'executions'))
    .where(timeFilter('l.time'), bySite('l'))
    .groupBy('1', '2')
    .orderBy('1');

  // Per action, from the trigger reaching the edge: command sent, and read-back confirmed (contracts LinkageAction).
  const after = (field: string): string => `(act->>'${field}')::float8`;
  const linkageLatency = Query.from('linkage_executions l')
    .join('CROSS JOIN LATERAL jsonb_array_elements(l.actions) act')
    .select(
      col.time(timeBin('l.time')),
      col.num(`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${after('sentAfterMs')})`, 'sent_p50_ms'),
      col.num(`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${after('confirmedAfterMs')})`, 'confirmed_p50_ms'),
      col.num(`percentile_cont(0.99) WITHIN GROUP (ORDER BY ${after('confirmedAfterMs')})`, 'confirmed_p99_ms'),
    )
    .where(timeFilter('l.time'), bySite('l'))
    .groupBy('1')
    .orderBy('1');

  // Dead letters name the edge, not the site; edges map to sites through the ingest cursor.
  const deadLetters = Query.from('dead_letters dl')
    .select(col.time('dl.received_at', 'received_at'), col.text('dl.source', 'source'), col.text('dl.edge', 'edge'), col.text('dl.code', 'code'), col.text('dl.reason', 'reason'))
    .where(timeFilter('dl.received_at'), `(${ALL_VALUE} IN ($site) OR dl.edge IN (SELECT c.edge FROM edge_cursor c WHERE c.site IN ($site)))`)
    .orderBy('dl.received_at DESC')
    .limit(100);

  const dash = frame(b, title, opts, ['overview'])
    .withPanel(new StatPanel().title('Devices online / offline').span(8).height(6).withTarget(b.target('Devices online / offline', devices)))
    .withPanel(new TablePanel().title('Offline devices').span(16).height(6).withTarget(b.target('Offline devices', offline)))
    .withPanel(new TimeSeriesPanel().title('Events per minute').span(12).withTarget(b.target('Events per minute', eventsPerMinute, 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Linkage executions').span(12).withTarget(b.target('Linkage executions', linkageRuns, 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Linkage latency').description('Trigger received at the edge → command sent, and → read-back confirmed.').unit('ms').span(12).withTarget(b.target('Linkage latency', linkageLatency, 'time_series')))
    .withPanel(new TablePanel().title('Dead letters').description('Input the ingest rejected, with the reason.').span(12).withTarget(b.target('Dead letters', deadLetters)));
  return finish(b, title, dash);
}
