export { migrate, listMigrations, DEFAULT_MIGRATIONS_DIR } from './migrate.js';
export type { SqlRunner, MigrateOptions, MigrateResult } from './migrate.js';
export type { Store, StoreHealth, IngestBatch, BatchItem, WriteResult, DeadLetterRecord } from './store/types.js';
export { PgStore, type PgStoreOptions } from './store/pg-store.js';
export { PgliteStore, type PgliteStoreOptions } from './store/pglite-store.js';
export { prepareEnvelope, clip, type Prepared } from './prepare.js';
export { createIngestService, type IngestService, type IngestDeps } from './service.js';
export { loadConfig, configFromEnv, IngestConfigSchema, type IngestConfig, type IngestConfigInput } from './config.js';
export type { IngestCounters } from './pipeline.js';
export type { HealthParts } from './http.js';
export { Maintenance, type MaintenanceOptions } from './maintenance.js';
export * from './alarms/index.js';
export * from './rules/index.js';
export { registerApi, CommandDesk, statusForCode, type ApiDeps, type ApiHandle, type CommandDeskOptions, type CommandView, type CommandState, type CommandInput, type WarningInput } from './api/index.js';
// Role and Actor come from the alarms module (the same shapes); the auth module adds the rest.
export { UserDirectory, ROLES, can, requirePermission, siteAllowed, scopeSites, newToken, hashToken, bearerToken, userAuthHook, edgeAuthHook, actorOf, type Db, type DirectoryOptions, type UserRecord, type Permission } from './auth/index.js';
export { alarmPagePlugin, type AlarmPageDeps } from './page/index.js';
export * from './care/index.js';
export { isTransientDbError } from './store/transient.js';
