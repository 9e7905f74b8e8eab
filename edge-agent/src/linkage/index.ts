export { LinkageEngine, type LinkageEngineOptions, type LinkageStats, type ExecutionListener, type NoticeListener } from './engine.js';
export type { ExecutionReport } from './execution.js';
export { parseRules, loadRuleFile, loadRulePack, checkRules, RuleError, BUILTIN_RULES_FILE, ERR_RULE, ERR_RULE_SYNTAX } from './rules.js';
export { Rule, RuleFile, Selector, Action, LIFE_SAFETY_PRIORITY } from './schema.js';
export { drill, formatDrill, presetsNamedFor, type DrillOptions, type DrillReport, type DrillRow } from './drill.js';
export { guardCommands, ERR_LINKAGE_HELD, type HoldCheck } from './guard.js';
export { describeExecution } from './format.js';
export { HoldStore, writeAtomic, DEFAULT_REFUSE, type Latch, type Hold } from './holds.js';
export { DEFAULT_RETRY, type RetrySettings } from './actuator.js';
