export * from './ports.js';
export { EdgeAgent, type EdgeAgentOptions } from './agent.js';
export { loadEdgeConfig, readConfigFile, applyEnv, EdgeConfigSchema, type EdgeConfig, type EdgeDevice } from './config.js';
export { CloudCommands, type CloudCommandsOptions, type CommandGuard } from './cloud-commands.js';
export * from './broker/index.js';
export * from './devices/index.js';
export * from './linkage/index.js';
export * from './outbox/index.js';
export * from './uplink/index.js';
