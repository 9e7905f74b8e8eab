/**
 * Glue between the SQL builder and the foundation SDK: the PostgreSQL query type (the SDK ships none),
 * the datasource reference, the shared template variables and the alarm annotation, and a Board that
 * records every query it hands out so tests can run each one against a real database.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  AnnotationQueryBuilder,
  QueryVariableBuilder,
  VariableHide,
  VariableRefresh,
  VariableSort,
  type AnnotationQuery,
  type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { CodedError } from '@safe-community/runtime';
import { ALL_VALUE, inVar, timeFilter } from './macros.js';
import { col, lit, Query } from './sql.js';

/** Fixed so dashboards, alert rules and the datasource provisioning agree without lookups. */
export const DATASOURCE_UID = 'safe-community-pg';
export const DATASOURCE_TYPE = 'grafana-postgresql-datasource';
export const datasource: DataSourceRef = { type: DATASOURCE_TYPE, uid: DATASOURCE_UID };

export type QueryFormat = 'time_series' | 'table';

/** The PostgreSQL datasource's query model (raw SQL in code mode). */
export interface PostgresQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  format: QueryFormat;
  rawQuery: true;
  editorMode: 'code';
}

export class PostgresQueryBuilder implements Builder<Dataquery> {
  constructor(
    private readonly sql: string,
    private readonly format: QueryFormat,
    private readonly refId: string,
  ) {}

  build(): PostgresQuery {
    return {
      refId: this.refId,
      datasource,
      rawSql: this.sql,
      format: this.format,
      rawQuery: true,
      editorMode: 'code',
      _implementsDataqueryVariant() {},
    };
  }
}

/** One query of a dashboard, kept with the columns it must return. */
export interface PanelQuery {
  readonly dashboard: string;
  /** Panel title, or `variable <name>` / `annotation <name>`. */
  readonly panel: string;
  readonly refId: string;
  readonly format: QueryFormat;
  readonly query: Query;
  /** Seeded data must give at least this many rows (0 where empty is a fair answer). */
  readonly minRows: number;
}

/** Grafana reads a time-series frame from a `time` column first and at least one numeric column. */
export function checkShape(format: QueryFormat, query: Query, where: string): void {
  if (format !== 'time_series') return;
  const [first, ...rest] = query.columns;
  if (!first || first.name !== 'time' || first.kind !== 'time') {
    throw new CodedError('ERR_PANEL_SHAPE', `${where}: a time-series query must start with a 'time' column`);
  }
  if (!rest.some((c) => c.kind === 'number')) {
    throw new CodedError('ERR_PANEL_SHAPE', `${where}: a time-series query needs a numeric column`);
  }
  if (rest.some((c) => c.kind === 'json' || c.kind === 'time')) {
    throw new CodedError('ERR_PANEL_SHAPE', `${where}: a time-series query may carry only text labels and numbers after 'time'`);
  }
}

/** Collects the queries of one dashboard while its panels are built. */
export class Board {
  readonly queries: PanelQuery[] = [];
  constructor(readonly uid: string) {}

  /** A panel target; `minRows` defaults to 1 (the seed covers every panel). */
  target(panel: string, query: Query, format: QueryFormat = 'table', opts: { refId?: string; minRows?: number } = {}): PostgresQueryBuilder {
    const refId = opts.refId ?? 'A';
    checkShape(format, query, `${this.uid} / ${panel}`);
    if (this.queries.some((q) => q.panel === panel && q.refId === refId)) {
      throw new CodedError('ERR_PANEL_DUPLICATE', `${this.uid}: two queries for panel '${panel}' ref ${refId}`);
    }
    this.queries.push({ dashboard: this.uid, panel, refId, format, query, minRows: opts.minRows ?? 1 });
    return new PostgresQueryBuilder(query.toSql(), format, refId);
  }

  /** The site and building variables every dashboard carries; building follows the chosen sites. */
  variables(): Builder<VariableModel>[] {
    const sites = Query.from(
      '(SELECT site FROM edge_cursor UNION SELECT site FROM device_status UNION SELECT site FROM alarms) s',
    )
      .select(col.text('s.site', '__text'), col.text('s.site', '__value'))
      .orderBy('1');
    const buildings = Query.from(
      "(SELECT tags->>'building' AS building, site FROM alarms UNION SELECT DISTINCT tags->>'building', site FROM events WHERE time > now() - INTERVAL '30 days') b",
    )
      .select(col.text('b.building', 'building'))
      .where('b.building IS NOT NULL', inVar('b.site', 'site'))
      .groupBy('b.building')
      .orderBy('1');
    return [this.queryVariable('site', 'Site', sites), this.queryVariable('building', 'Building', buildings)];
  }

  /**
   * The alarm pages' base URL, read from the deployment rather than baked into this JSON (issue 15): the
   * cloud ingest publishes its PUBLIC_URL to `service_settings` at start, and this hidden variable reads it
   * on dashboard load; `fallback` serves until an ingest with PUBLIC_URL has started.
   */
  alarmPageVariable(fallback: string): QueryVariableBuilder {
    if (!/^https?:\/\/[^\s'"]+$/.test(fallback)) throw new CodedError('ERR_CONFIG', `alarm page URL must be an http(s) URL: ${fallback}`);
    const query = Query.from(`(SELECT COALESCE((SELECT value FROM service_settings WHERE key = 'public_url'), ${lit(fallback)}) AS url) u`)
      .select(col.text('u.url', '__text'), col.text('u.url', '__value'));
    this.queries.push({ dashboard: this.uid, panel: 'variable ALARM_PAGE_URL', refId: 'ALARM_PAGE_URL', format: 'table', query, minRows: 1 });
    return new QueryVariableBuilder('ALARM_PAGE_URL')
      .label('Alarm page URL')
      .description("Base URL of the cloud alarm pages: the ingest's PUBLIC_URL (service_settings.public_url)")
      .datasource(datasource)
      .query(query.toSql())
      .definition(query.toSql())
      .current({ selected: true, text: fallback, value: fallback })
      .refresh(VariableRefresh.OnDashboardLoad)
      .hide(VariableHide.HideVariable);
  }

  private queryVariable(name: string, label: string, query: Query): QueryVariableBuilder {
    this.queries.push({ dashboard: this.uid, panel: `variable ${name}`, refId: name, format: 'table', query, minRows: 1 });
    return new QueryVariableBuilder(name)
      .label(label)
      .datasource(datasource)
      .query(query.toSql())
      .definition(query.toSql())
      .multi(true)
      .includeAll(true)
      .allValue(ALL_VALUE)
      .current({ selected: true, text: 'All', value: '$__all' })
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc);
  }

  /** Alarms raised in range, drawn on every time-series panel (Grafana's SQL annotation columns). */
  alarmAnnotation(): Builder<AnnotationQuery> {
    const query = Query.from('alarms a')
      .select(
        col.time('a.raised_at', 'time'),
        col.time('COALESCE(a.resolved_at, a.acknowledged_at, a.raised_at)', 'timeend'),
        col.text("a.severity || ' ' || a.type || ' at ' || a.device || ': ' || a.message", 'text'),
        col.text("a.severity || ',' || a.type || ',' || a.state", 'tags'),
      )
      .where(timeFilter('a.raised_at'), inVar('a.site', 'site'), inVar("(a.tags->>'building')", 'building'))
      .orderBy('a.raised_at');
    return new AnnotationQueryBuilder()
      .name('Alarms')
      .datasource(datasource)
      .enable(true)
      .iconColor('red')
      .target(this.target('annotation Alarms', query, 'table', { refId: 'Anno', minRows: 1 }));
  }
}

/** A field-config `links` property: each cell of the field links to `url` (Grafana data link syntax). */
export function links(...items: { title: string; url: string }[]): { id: string; value: unknown } {
  return { id: 'links', value: items.map((l) => ({ title: l.title, url: l.url, targetBlank: true })) };
}
