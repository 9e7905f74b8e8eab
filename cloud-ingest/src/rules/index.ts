export { RuleEngine, OFFLINE_TIMER, type RuleEngineOptions, type RuleCounters } from './engine.js';
export { committedFromBatch, emptyCommitted, type CommittedBatch } from './batch.js';
export { parseRuleSet, validateRuleSet, RuleSet, Rule, AlarmSpec, type DoubleKnock, type LinkageFailure, type DoorForcedPerson, type DeviceOffline } from './schema.js';
export { activeRuleSet, ruleSetVersions, saveRuleSet, type StoredRuleSet } from './store.js';
