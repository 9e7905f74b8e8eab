export * from './errors.js';
export * from './clock.js';
export * from './backoff.js';
export * from './logger.js';
export * from './config.js';
export * from './files.js';
export * from './health.js';
export * from './rate-limit.js';
