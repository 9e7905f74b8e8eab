export { registerApi, type ApiDeps, type ApiHandle } from './register.js';
export { CommandDesk, type CommandDeskOptions, type CommandView, type CommandState, type CommandInput, type WarningInput, type Publish } from './commands.js';
export { statusForCode } from './errors.js';
export type { RulesPort, SlaPort } from './routes-rules.js';
