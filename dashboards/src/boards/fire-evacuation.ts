/**
 * Fire and evacuation: fire alarms, and whether the linked actuators (gates, barriers) confirmed by
 * read-back (GB 50116-2013 §4.10.3: the linkage releases evacuation doors and raises barriers).
 */
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { Board } from '../grafana.js';
import { timeBin, timeFilter } from '../macros.js';
import { byBuilding, bySite, deviceInBuilding } from '../filters.js';
import { col, inList, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const FIRE_EVACUATION_UID = 'sc-fire-evacuation';

/**
 * Linkage executions triggered by a fire event. The trigger is looked up within minutes of the start
 * (both are edge times), so the join reads a few partitions rather than all events.
 */
function fireLinkage(): string {
  return (
    "EXISTS (SELECT 1 FROM events fe WHERE fe.id = l.trigger_event_id AND fe.kind LIKE 'fire.%' " +
    "AND fe.time BETWEEN l.time - INTERVAL '5 minutes' AND l.time + INTERVAL '1 minute')"
  );
}

export function fireEvacuation(opts: BoardOptions): BuiltBoard {
  const b = new Board(FIRE_EVACUATION_UID);
  const title = 'Fire and evacuation';

  const fireCount = Query.from('events e')
    .select(col.num("count(*) FILTER (WHERE e.kind = 'fire.alarm')", 'fire_alarms'), col.num("count(*) FILTER (WHERE e.kind = 'fire.reset')", 'resets'))
    .where(timeFilter('e.time'), "e.kind LIKE 'fire.%'", bySite('e'), byBuilding('e'));

  const fireSeries = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text('e.kind', 'kind'), col.num('count(*)', 'events'))
    .where(timeFilter('e.time'), inList('e.kind', ['fire.alarm', 'fire.reset']), bySite('e'), byBuilding('e'))
    .groupBy('1', '2')
    .orderBy('1');

  const fireEvents = Query.from('events e')
    .select(col.time('e.time', 'time'), col.text('e.site', 'site'), col.text("e.tags->>'building'", 'building'), col.text('e.device', 'panel'), col.text('e.kind', 'kind'), col.text("e.payload->>'zone'", 'zone'))
    .where(timeFilter('e.time'), "e.kind LIKE 'fire.%'", bySite('e'), byBuilding('e'))
    .orderBy('e.time DESC')
    .limit(200);

  // One row per actuator: how often it confirmed, how often it failed, and how fast the read-back came.
  const perDevice = Query.from('linkage_executions l')
    .join('CROSS JOIN LATERAL jsonb_array_elements(l.actions) act')
    .select(
      col.text("act->>'device'", 'device'),
      col.text("act->>'action'", 'action'),
      col.num("count(*) FILTER (WHERE act->>'status' = 'confirmed')", 'confirmed'),
      col.num("count(*) FILTER (WHERE act->>'status' <> 'confirmed')", 'failed'),
      col.num("percentile_cont(0.5) WITHIN GROUP (ORDER BY (act->>'confirmedAfterMs')::float8)", 'confirm_p50_ms'),
      col.num("max((act->>'confirmedAfterMs')::float8)", 'confirm_max_ms'),
    )
    .where(timeFilter('l.time'), bySite('l'), fireLinkage(), deviceInBuilding("(act->>'device')"))
    .groupBy('1', '2')
    .orderBy('failed DESC', 'device');

  const executions = Query.from('linkage_executions l')
    .select(
      col.time('l.time', 'time'),
      col.text('l.site', 'site'),
      col.text('l.rule', 'rule'),
      col.text('l.status', 'status'),
      col.num('jsonb_array_length(l.actions)', 'actions'),
      col.num("(SELECT count(*) FROM jsonb_array_elements(l.actions) x WHERE x->>'status' = 'confirmed')", 'confirmed'),
      col.num('extract(epoch FROM l.finished_at - l.time) * 1000', 'duration_ms'),
    )
    .where(timeFilter('l.time'), bySite('l'), fireLinkage())
    .orderBy('l.time DESC')
    .limit(200);

  const failures = Query.from('command_results c')
    .select(col.time(timeBin('c.time')), col.text('c.device', 'device'), col.num('count(*)', 'failures'))
    .where(timeFilter('c.time'), "c.status <> 'confirmed'", bySite('c'), deviceInBuilding('c.device'))
    .groupBy('1', '2')
    .orderBy('1');

  const dash = frame(b, title, opts, ['fire'])
    .withPanel(new StatPanel().title('Fire alarms').span(6).height(6).withTarget(b.target('Fire alarms', fireCount)))
    .withPanel(new TimeSeriesPanel().title('Fire alarms and resets').span(18).height(6).withTarget(b.target('Fire alarms and resets', fireSeries, 'time_series')))
    .withPanel(
      new TablePanel()
        .title('Linkage confirmations and failures per device')
        .description('Actions of fire-triggered linkages: confirmed by read-back, or failed after retries.')
        .span(12)
        .withTarget(b.target('Linkage confirmations and failures per device', perDevice)),
    )
    .withPanel(new TablePanel().title('Fire linkage executions').span(12).withTarget(b.target('Fire linkage executions', executions)))
    .withPanel(new TimeSeriesPanel().title('Command failures by device').span(12).withTarget(b.target('Command failures by device', failures, 'time_series')))
    .withPanel(new TablePanel().title('Fire events').span(12).withTarget(b.target('Fire events', fireEvents)));
  return finish(b, title, dash);
}
