/** What every board shares: options, the built result and the dashboard frame (variables, annotation). */
import { DashboardBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Board, PanelQuery } from '../grafana.js';

export interface BoardOptions {
  /** Base URL of the alarm pages until an ingest publishes its PUBLIC_URL (see Board.alarmPageVariable). */
  alarmPageUrl: string;
}

export const DEFAULT_OPTIONS: BoardOptions = { alarmPageUrl: 'http://localhost:8080' };

export interface BuiltBoard {
  readonly uid: string;
  readonly title: string;
  readonly dashboard: Dashboard;
  readonly queries: readonly PanelQuery[];
}

/** A dashboard with the site/building variables, the alarm page variable and the alarm annotation. */
export function frame(board: Board, title: string, opts: BoardOptions, extraTags: string[] = []): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(board.uid)
    .tags(['safe-community', 'generated', ...extraTags])
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .refresh('30s')
    .readonly()
    .variables([...board.variables(), board.alarmPageVariable(opts.alarmPageUrl)])
    .annotation(board.alarmAnnotation());
}

/** Builds the dashboard, numbering panels in order: Grafana's panel links and "view panel" need ids. */
export function finish(board: Board, title: string, builder: DashboardBuilder): BuiltBoard {
  const dashboard = builder.build();
  (dashboard.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
  });
  return { uid: board.uid, title, dashboard, queries: board.queries };
}
