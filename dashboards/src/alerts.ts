/**
 * Grafana-managed alert rules, built with the foundation SDK and written in Grafana's file-provisioning
 * format. Each rule's SQL returns one row per thing in trouble (a text label and a numeric `value`), so
 * Grafana raises one alert instance per site, edge or device; a threshold expression is the condition.
 * The SQL uses now() rather than dashboard macros so it means the same whatever the evaluation window.
 */
import { QueryBuilder, RuleBuilder, RuleGroupBuilder, type Rule } from '@grafana/grafana-foundation-sdk/alerting';
import { TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { stringify } from 'yaml';
import { DATASOURCE_UID, PostgresQueryBuilder } from './grafana.js';
import { col, Query } from './sql.js';

export interface AlertRuleSpec {
  readonly uid: string;
  readonly title: string;
  readonly query: Query;
  /** The rule fires for rows whose `value` is above this. */
  readonly above: number;
  readonly for: string;
  readonly severity: 'critical' | 'major' | 'minor';
  readonly summary: string;
}

export const ALERT_FOLDER = 'Safe Community';
export const ALERT_GROUP = 'safe-community';

export const alertRules: readonly AlertRuleSpec[] = [
  {
    uid: 'sc-critical-unacknowledged',
    title: 'Critical alarm open and unacknowledged for over 2 minutes',
    query: Query.from('alarms a')
      .select(col.text('a.site', 'site'), col.num('count(*)::float8', 'value'))
      .where("a.severity = 'critical'", "a.state = 'open'", 'a.acknowledged_at IS NULL', "a.raised_at < now() - INTERVAL '2 minutes'")
      .groupBy('a.site'),
    above: 0,
    for: '0s',
    severity: 'critical',
    summary: '{{ $values.A }} critical alarm(s) at site {{ $labels.site }} have waited over 2 minutes for acknowledgement.',
  },
  {
    uid: 'sc-edge-outbox-backlog',
    title: 'Edge outbox backlog',
    query: Query.from('telemetry t')
      .select(col.text('t.edge', 'edge'), col.num('max(t.value)', 'value'))
      .where("t.metric = 'edge.outbox_depth'", "t.time > now() - INTERVAL '5 minutes'")
      .groupBy('t.edge'),
    above: 1000,
    for: '5m',
    severity: 'major',
    summary: 'Edge {{ $labels.edge }} holds {{ $values.A }} unsent records: the uplink is down or slow.',
  },
  {
    uid: 'sc-edge-outbox-age',
    title: 'Edge outbox oldest record older than 5 minutes',
    query: Query.from('telemetry t')
      .select(col.text('t.edge', 'edge'), col.num('max(t.value)', 'value'))
      .where("t.metric = 'edge.outbox_oldest_age_s'", "t.time > now() - INTERVAL '5 minutes'")
      .groupBy('t.edge'),
    above: 300,
    for: '2m',
    severity: 'major',
    summary: 'The oldest unsent record at edge {{ $labels.edge }} is {{ $values.A }} s old.',
  },
  {
    uid: 'sc-device-offline',
    title: 'Devices offline for over 5 minutes',
    query: Query.from('device_status d')
      .select(col.text('d.site', 'site'), col.num('count(*)::float8', 'value'))
      .where('NOT d.online', "d.at < now() - INTERVAL '5 minutes'")
      .groupBy('d.site'),
    above: 0,
    for: '0s',
    severity: 'major',
    summary: '{{ $values.A }} device(s) at site {{ $labels.site }} have been offline for over 5 minutes.',
  },
  {
    uid: 'sc-linkage-failed',
    title: 'Linkage actions not confirmed',
    query: Query.from('linkage_executions l')
      .select(col.text('l.site', 'site'), col.num('count(*)::float8', 'value'))
      .where("l.status <> 'confirmed'", "l.time > now() - INTERVAL '10 minutes'")
      .groupBy('l.site'),
    above: 0,
    for: '0s',
    severity: 'critical',
    summary: '{{ $values.A }} linkage execution(s) at site {{ $labels.site }} did not confirm every action.',
  },
];

function buildRule(spec: AlertRuleSpec): Rule {
  return new RuleBuilder(spec.title)
    .uid(spec.uid)
    .condition('C')
    .withQuery(
      new QueryBuilder('A')
        .datasourceUid(DATASOURCE_UID)
        .relativeTimeRange({ from: 600, to: 0 })
        .model(new PostgresQueryBuilder(spec.query.toSql(), 'table', 'A')),
    )
    .withQuery(
      new QueryBuilder('C')
        .datasourceUid('__expr__')
        .model(
          new TypeThresholdBuilder()
            .refId('C')
            .expression('A')
            .datasource({ type: '__expr__', uid: '__expr__' })
            .conditions([{ evaluator: { type: 'gt', params: [spec.above] } }]),
        ),
    )
    .forDuration(spec.for)
    .noDataState('OK')
    .execErrState('Error')
    .labels({ severity: spec.severity, team: 'security' })
    .annotations({ summary: spec.summary })
    .build();
}

/** The alert rules file for /etc/grafana/provisioning/alerting. */
export function renderAlertRules(): string {
  const group = new RuleGroupBuilder(ALERT_GROUP).interval(60).rules(alertRules.map((s) => ({ build: () => buildRule(s) }))).build();
  // Grafana's provisioning file names the group and folder by title and wants only these rule keys.
  const file = {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: group.title,
        folder: ALERT_FOLDER,
        interval: '1m',
        rules: (group.rules ?? []).map((r) => ({
          uid: r.uid,
          title: r.title,
          condition: r.condition,
          data: r.data.map((q) => JSON.parse(JSON.stringify(q)) as unknown),
          noDataState: r.noDataState,
          execErrState: r.execErrState,
          for: r.for,
          labels: r.labels,
          annotations: r.annotations,
          isPaused: false,
        })),
      },
    ],
  };
  return `# Generated by \`npm run dashboards\` from dashboards/src/alerts.ts; do not edit.\n${stringify(file, { lineWidth: 0 })}`;
}
