/** Vendor device profiles as data, their schema, and the loader. */
export { Profile, ValueExpr, InboundRule, Codec, CommandTemplate, Template, HexField, KIND_CATALOG } from './schema.js';
export { loadProfiles, checkProfile, profileValidator, PROFILES_DIR } from './load.js';
