/** Grafana dashboards as code: the SQL builder, Grafana macro helpers and expansion, boards and alert rules. */
export { Query, col, lit, eq, inList, and, or, ident, type Column, type ColumnKind, type SelectItem } from './sql.js';
export { ALL_VALUE, timeFilter, timeFrom, timeTo, timeBin, timeBinFixed, intervalExpr, inVar } from './macros.js';
export { expandMacros, formatVariable, formatInterval, parseIntervalSeconds, type ExpandContext, type VariableValue } from './expand.js';
export {
  Board,
  PostgresQueryBuilder,
  DATASOURCE_UID,
  DATASOURCE_TYPE,
  datasource,
  checkShape,
  links,
  type PanelQuery,
  type PostgresQuery,
  type QueryFormat,
} from './grafana.js';
export { DEFAULT_OPTIONS, type BoardOptions, type BuiltBoard } from './boards/common.js';
export { buildBoards, generatedFiles, boardFactories, GENERATED_DIR, ALERT_RULES_FILE } from './catalog.js';
export { writeGenerated, type WriteResult } from './write.js';
export { alertRules, renderAlertRules, ALERT_FOLDER, ALERT_GROUP, type AlertRuleSpec } from './alerts.js';
