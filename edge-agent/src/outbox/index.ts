export { Outbox, type OutboxOptions, type OutboxStats } from './outbox.js';
export { CapacityRule, type CapacityOptions, type Verdict } from './capacity.js';
export type { OutboxRecord } from './record.js';
