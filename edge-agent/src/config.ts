/**
 * The edge agent's configuration: one schema with defaults and descriptions, read from a YAML/JSON file
 * (EDGE_CONFIG) with a few environment overrides, validated once and frozen. Unknown keys are errors.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { DeviceKind, Tags } from '@safe-community/contracts';
import { CodedError, validateConfig } from '@safe-community/runtime';

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 64 });

const DeviceSchema = Type.Object(
  {
    id: Id,
    kind: DeviceKind,
    profile: Type.String({ minLength: 1, description: 'vendor profile id in firmware-configs, e.g. access_gate.acme-json' }),
    tags: Type.Record(Type.String(), Type.String(), { default: {}, description: 'building, zone, role… for rule filters' }),
  },
  { additionalProperties: false },
);

export const EdgeConfigSchema = Type.Object(
  {
    edge: Type.Object(
      {
        id: Id,
        site: Id,
      },
      { additionalProperties: false, default: { id: 'edge-1', site: 'site-1' } },
    ),
    dataDir: Type.String({ minLength: 1, default: './var/edge', description: 'outbox, credentials, linkage state, dead letters (env DATA_DIR)' }),
    broker: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'device broker listen address' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1884, description: 'device broker port; 0 picks a free one (env EDGE_BROKER_PORT)' }),
        tls: Type.Optional(Type.Object({
          host: Type.Optional(Type.String()),
          port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
          keyPath: Type.String({ minLength: 1 }),
          certPath: Type.String({ minLength: 1 }),
        }, { additionalProperties: false })),
        maxPayloadBytes: Type.Integer({ minimum: 64, default: 64 * 1024, description: 'largest device payload accepted' }),
        ratePerSecond: Type.Number({ minimum: 0, default: 50, description: 'per-device message rate; 0 turns the limit off' }),
        rateBurst: Type.Integer({ minimum: 1, default: 200 }),
      },
      { additionalProperties: false, default: {} },
    ),
    uplink: Type.Object(
      {
        url: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'cloud broker URL (env UPLINK_MQTT_URL); null keeps everything in the outbox' }),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        maxBatchMessages: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        window: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'batches in flight without a cloud ack' }),
        ackTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    outbox: Type.Object(
      {
        capacityBytes: Type.Integer({ minimum: 1024 * 1024, default: 256 * 1024 * 1024, description: 'above it telemetry is thinned; events never' }),
        fsyncIntervalMs: Type.Integer({ minimum: 0, default: 0, description: '0: fsync every write batch before PUBACK (default)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    linkage: Type.Object(
      {
        builtinRules: Type.Boolean({ default: true, description: 'load the built-in rule pack (fire evacuation, door forced, SOS)' }),
        ruleFiles: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'extra rule files (YAML/JSON)' }),
        timeZone: Type.Optional(Type.String({ description: 'IANA zone for time-window conditions' })),
      },
      { additionalProperties: false, default: {} },
    ),
    admin: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'admin endpoint (health, devices, drill, metrics) listen address' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9181, description: 'admin port; 0 picks a free one (env EDGE_ADMIN_PORT)' }),
        enabled: Type.Boolean({ default: true }),
      },
      { additionalProperties: false, default: {} },
    ),
    devices: Type.Array(DeviceSchema, { default: [] }),
    logLevel: Type.String({ default: 'info' }),
  },
  { additionalProperties: false },
);

export type EdgeConfig = Readonly<Static<typeof EdgeConfigSchema>>;
export type EdgeDevice = Static<typeof DeviceSchema>;
export { Tags };

/** Reads a YAML or JSON config file into a plain object; errors name the file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CodedError('ERR_CONFIG_FILE', `cannot read edge config ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new CodedError('ERR_CONFIG_FILE', `edge config ${path} is not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** EDGE_ID, SITE_ID, EDGE_BROKER_PORT, EDGE_ADMIN_PORT, UPLINK_MQTT_URL, DATA_DIR, LOG_LEVEL override the file. */
export function applyEnv(input: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const out = structuredClone(input);
  const section = (k: string): Record<string, unknown> => (out[k] ??= {}) as Record<string, unknown>;
  if (env.EDGE_ID || env.SITE_ID) {
    const e = section('edge');
    e.id = env.EDGE_ID ?? e.id ?? 'edge-1';
    e.site = env.SITE_ID ?? e.site ?? 'site-1';
  }
  if (env.EDGE_BROKER_PORT) {
    const port = Number(env.EDGE_BROKER_PORT);
    if (!Number.isInteger(port)) throw new CodedError('ERR_CONFIG', `invalid edge config: broker.port (env EDGE_BROKER_PORT="${env.EDGE_BROKER_PORT}") is not an integer`);
    section('broker').port = port;
  }
  if (env.EDGE_ADMIN_PORT) {
    const port = Number(env.EDGE_ADMIN_PORT);
    if (!Number.isInteger(port)) throw new CodedError('ERR_CONFIG', `invalid edge config: admin.port (env EDGE_ADMIN_PORT="${env.EDGE_ADMIN_PORT}") is not an integer`);
    section('admin').port = port;
  }
  if (env.UPLINK_MQTT_URL) section('uplink').url = env.UPLINK_MQTT_URL;
  if (env.DATA_DIR) out.dataDir = env.DATA_DIR;
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  return out;
}

export function loadEdgeConfig(input: unknown): EdgeConfig {
  const cfg = validateConfig('edge', EdgeConfigSchema, input);
  const seen = new Set<string>();
  for (const d of cfg.devices) {
    if (seen.has(d.id)) throw new CodedError('ERR_CONFIG', `invalid edge config: devices: id "${d.id}" appears twice`);
    seen.add(d.id);
  }
  return cfg;
}
