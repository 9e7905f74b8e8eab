/** Access and barriers: people and vehicles in and out, denials, forced doors, plates read at barriers. */
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { Board } from '../grafana.js';
import { timeBin, timeFilter } from '../macros.js';
import { byBuilding, bySite } from '../filters.js';
import { col, inList, Query } from '../sql.js';
import { finish, frame, type BoardOptions, type BuiltBoard } from './common.js';

export const ACCESS_BARRIERS_UID = 'sc-access-barriers';

const PASSAGE_KINDS = ['access.granted', 'vehicle.arrived', 'vehicle.departed'];

/** A passage is an exit when a vehicle leaves or a gate reports direction 'out'; otherwise an entry. */
const DIRECTION = "CASE WHEN e.kind = 'vehicle.departed' OR e.payload->>'direction' = 'out' THEN 'exits' ELSE 'entries' END";

export function accessBarriers(opts: BoardOptions): BuiltBoard {
  const b = new Board(ACCESS_BARRIERS_UID);
  const title = 'Access and barriers';
  const scope = (...extra: string[]): string[] => [timeFilter('e.time'), ...extra, bySite('e'), byBuilding('e')];

  const totals = Query.from('events e')
    .select(
      col.num(`count(*) FILTER (WHERE ${inList('e.kind', PASSAGE_KINDS)} AND ${DIRECTION} = 'entries')`, 'entries'),
      col.num(`count(*) FILTER (WHERE ${inList('e.kind', PASSAGE_KINDS)} AND ${DIRECTION} = 'exits')`, 'exits'),
      col.num("count(*) FILTER (WHERE e.kind = 'access.denied')", 'denials'),
      col.num("count(*) FILTER (WHERE e.kind = 'door.forced')", 'forced_doors'),
    )
    .where(...scope("(e.kind LIKE 'access.%' OR e.kind LIKE 'vehicle.%' OR e.kind = 'door.forced')"));

  const passages = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text(DIRECTION, 'direction'), col.num('count(*)', 'passages'))
    .where(...scope(inList('e.kind', PASSAGE_KINDS)))
    .groupBy('1', '2')
    .orderBy('1');

  const refusals = Query.from('events e')
    .select(col.time(timeBin('e.time')), col.text('e.kind', 'kind'), col.num('count(*)', 'events'))
    .where(...scope(inList('e.kind', ['access.denied', 'door.forced'])))
    .groupBy('1', '2')
    .orderBy('1');

  const forced = Query.from('events e')
    .select(col.time('e.time', 'time'), col.text('e.site', 'site'), col.text("e.tags->>'building'", 'building'), col.text('e.device', 'door'), col.text('e.severity', 'severity'))
    .where(...scope("e.kind = 'door.forced'"))
    .orderBy('e.time DESC')
    .limit(200);

  const denials = Query.from('events e')
    .select(col.time('e.time', 'time'), col.text('e.site', 'site'), col.text('e.device', 'gate'), col.text("e.payload->>'credential'", 'credential'), col.text("e.payload->>'reason'", 'reason'))
    .where(...scope("e.kind = 'access.denied'"))
    .orderBy('e.time DESC')
    .limit(200);

  // Plates are read only at barriers, for access decisions (DESIGN.md, out of bounds).
  const plates = Query.from('events e')
    .select(
      col.time('e.time', 'time'),
      col.text('e.site', 'site'),
      col.text('e.device', 'barrier'),
      col.text("e.payload->>'plate'", 'plate'),
      col.text("CASE e.kind WHEN 'vehicle.departed' THEN 'exit' ELSE 'entry' END", 'direction'),
      col.text("e.payload->>'decision'", 'decision'),
    )
    .where(...scope("e.kind LIKE 'vehicle.%'", "e.payload->>'plate' IS NOT NULL"))
    .orderBy('e.time DESC')
    .limit(500);

  const dash = frame(b, title, opts, ['access'])
    .withPanel(new StatPanel().title('Passages and refusals').span(24).height(5).withTarget(b.target('Passages and refusals', totals)))
    .withPanel(new TimeSeriesPanel().title('Entries and exits').span(12).withTarget(b.target('Entries and exits', passages, 'time_series')))
    .withPanel(new TimeSeriesPanel().title('Denials and forced doors').span(12).withTarget(b.target('Denials and forced doors', refusals, 'time_series')))
    .withPanel(new TablePanel().title('Forced doors').span(12).withTarget(b.target('Forced doors', forced)))
    .withPanel(new TablePanel().title('Denied access').span(12).withTarget(b.target('Denied access', denials)))
    .withPanel(new TablePanel().title('Plates at barriers').span(24).withTarget(b.target('Plates at barriers', plates)));
  return finish(b, title, dash);
}
