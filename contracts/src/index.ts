export * from './common.js';
export * from './messages.js';
export * from './envelope.js';
export * from './topics.js';
export * from './errors.js';
export * from './validate.js';
export * from './down.js';
export * from './validators.js';
