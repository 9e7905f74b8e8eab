/** The edge broker: Aedes with per-device auth, topic ACL, limits, dead-letter record and the durability hook. */
export { EdgeBroker, AGENT_USERNAME } from './edge-broker.js';
export { PublishRefused } from './types.js';
export type { EdgeBrokerOptions, DevicePublishHandler, BrokerStats } from './types.js';
export { CredentialStore } from './credentials.js';
export { DeadLetterLog } from './dead-letter.js';
export type { DeadLetter, DeadLetterInput, DeadLetterRotation } from './dead-letter.js';
export { FilePersistence } from './file-persistence.js';
