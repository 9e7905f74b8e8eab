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

/**
 * A camera: an ONVIF endpoint (hostname…; events, presets, snapshots, stream URI), or a plain `stream`
 * (RTSP/HTTP URL or a file) for analytics only; `analytics` turns on on-edge detection with its rules.
 */
const CameraSchema = Type.Object(
  {
    id: Id,
    hostname: Type.Optional(Type.String({ minLength: 1, description: 'ONVIF device service host (as found by discover)' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 80 }),
    path: Type.String({ minLength: 1, default: '/onvif/device_service' }),
    username: Type.String({ default: '', description: 'ONVIF/RTSP user' }),
    password: Type.String({ default: '', description: 'ONVIF/RTSP password; never logged' }),
    profileToken: Type.Optional(Type.String({ description: 'media profile for every role not named in profiles' })),
    profiles: Type.Optional(Type.Object({
      analytics: Type.Optional(Type.String({ minLength: 1, description: 'profile analysed on the edge; default the smallest that reaches the detector input' })),
      snapshot: Type.Optional(Type.String({ minLength: 1, description: 'profile for snapshots and recording; default the largest (main)' })),
      ptz: Type.Optional(Type.String({ minLength: 1, description: 'profile for PTZ presets; default the main one with PTZ' })),
    }, { additionalProperties: false, description: 'media profile token per role' })),
    events: Type.Boolean({ default: true, description: 'subscribe to the camera\'s own events (PullPoint)' }),
    tags: Type.Record(Type.String(), Type.String(), { default: {}, description: 'building, covers=<building>, fire_preset=<preset>… for rules' }),
    stream: Type.Optional(Type.String({ minLength: 1, description: 'RTSP/HTTP URL or file; overrides the ONVIF stream URI' })),
    loop: Type.Boolean({ default: false, description: 'loop a file stream (a demo camera playing a video)' }),
    evidence: Type.Optional(Type.Object({
      enabled: Type.Boolean({ default: true, description: 'record this camera into the ring buffer and make clips from it' }),
      profile: Type.Optional(Type.String({ minLength: 1, description: 'media profile recorded; default the recording (main) profile, as for snapshots' })),
      stream: Type.Optional(Type.String({ minLength: 1, description: 'URL recorded instead of the ONVIF stream URI or the camera\'s stream' })),
    }, { additionalProperties: false, description: 'evidence recording of this camera (issue #16)' })),
    analytics: Type.Optional(Type.Object({
      fps: Type.Number({ minimum: 0.2, maximum: 30, default: 5 }),
      motion: Type.Boolean({ default: true, description: 'skip inference on frames without motion' }),
      lines: Type.Array(Type.Unknown(), { default: [], description: 'line crossing rules (analytics/video README)' }),
      zones: Type.Array(Type.Unknown(), { default: [] }),
      crowds: Type.Array(Type.Unknown(), { default: [] }),
      plates: Type.Optional(Type.Object({
        barrier: Id,
        lane: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        minConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0.9, description: 'mean evidence of the characters of the voted plate (each position also passes the gate across frames: analytics gate.ts)' }),
        everyMs: Type.Integer({ minimum: 100, default: 1000, description: 'at most one plate read per this many ms' }),
        minAgree: Type.Integer({ minimum: 1, maximum: 20, default: 2, description: 'frames that must read the same plate before it is reported' }),
        width: Type.Integer({ minimum: 320, maximum: 3840, default: 1280, description: 'plates are read from a second decode of the stream at this size (letterboxed)' }),
        height: Type.Integer({ minimum: 240, maximum: 2160, default: 720 }),
        repeatMs: Type.Integer({ minimum: 0, default: 60_000, description: 'the same plate is reported again only after this' }),
      }, { additionalProperties: false, description: 'read plates for the barrier this camera watches (vehicle.arrived at that barrier)' })),
    }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const MiB = 1024 * 1024;

/** Video evidence (issue #16): ring buffers per camera, clips around alarms, face blur, durable upload. */
const EvidenceSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'record and make clips when the edge has cameras' }),
    preSec: Type.Integer({ minimum: 0, maximum: 120, default: 10, description: 'seconds of video before the trigger' }),
    postSec: Type.Integer({ minimum: 1, maximum: 300, default: 20, description: 'seconds of video after the trigger' }),
    ringSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 60, description: 'seconds kept in each camera\'s ring buffer (at least preSec + 2 × segmentSec)' }),
    ringMaxBytes: Type.Integer({ minimum: MiB, default: 256 * MiB, description: 'bytes kept in each camera\'s ring buffer; the oldest segments go first' }),
    segmentSec: Type.Integer({ minimum: 1, maximum: 10, default: 2, description: 'segment length (cut on the next keyframe)' }),
    keepOriginalDays: Type.Number({ minimum: 0, maximum: 3650, default: 7, description: 'unblurred originals stay on the edge this long for lawful requests, then are deleted' }),
    queueMaxBytes: Type.Integer({ minimum: MiB, default: 2048 * MiB, description: 'clips waiting to upload; above it the oldest clips of the lowest severity are dropped (fire clips last)' }),
    sendUnblurred: Type.Boolean({ default: false, description: 'upload the originals instead of blurred clips (the cloud still refuses unless the site allows it)' }),
    uploadUrl: Type.Optional(Type.String({ minLength: 1, description: 'cloud ingest base URL for clip uploads (env EVIDENCE_UPLOAD_URL); default cloud.url' })),
    chunkBytes: Type.Integer({ minimum: 64 * 1024, maximum: 8 * MiB, default: 4 * MiB, description: 'upload chunk size (the cloud takes at most 8 MiB a request)' }),
    blurEveryFrames: Type.Integer({ minimum: 1, maximum: 5, default: 2, description: 'run the face model on every Nth frame; boxes of the detections on both sides cover the frames between' }),
    triggers: Type.Object({
      kinds: Type.Array(Type.String({ minLength: 1 }), {
        default: ['fire.*', 'door.forced', 'intrusion.*', 'video.zone_intrusion', 'video.loitering', 'wearable.sos'],
        description: 'event kinds and alarm types that make a clip (`x.*` matches a family)',
      }),
      minSeverity: Type.Union([Type.Literal('major'), Type.Literal('critical'), Type.Null()], { default: 'major', description: 'any event or alarm at or above it makes a clip too; null turns that off' }),
      ignore: Type.Array(Type.String({ minLength: 1 }), {
        default: ['fire.reset', 'fire.restore', 'linkage.*', 'camera.*', 'edge.*', 'uplink.*', 'outbox.*', 'evidence.*'],
        description: 'kinds never clipped: a panel reset or restore, and the system\'s own alarms',
      }),
    }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false, default: {} },
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
        maxPacketBytes: Type.Integer({ minimum: 1024, default: 256 * 1024, description: 'largest MQTT packet, refused on its header before authentication (never below maxPayloadBytes + 4 KiB)' }),
        authConcurrency: Type.Integer({ minimum: 1, default: 2, description: 'password hashes running at once' }),
        authQueue: Type.Integer({ minimum: 1, default: 256, description: 'connections waiting for a password hash; past it CONNACK "server unavailable"' }),
        connectRatePerSecond: Type.Number({ minimum: 0, default: 20, description: 'CONNECT attempts per source address; 0 turns the limit off' }),
        connectBurst: Type.Integer({ minimum: 1, default: 100 }),
      },
      { additionalProperties: false, default: {} },
    ),
    uplink: Type.Object(
      {
        url: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'cloud broker URL (env UPLINK_MQTT_URL); null keeps everything in the outbox' }),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        secret: Type.Optional(Type.String({ minLength: 16, description: "this edge's own credential (env EDGE_SECRET), from `provision edge` or the admin API: its cloud broker login (user = edge id) and the key every command and ack from the cloud must be signed with; unset: a development edge that accepts unsigned down messages" })),
        maxDownSkewMs: Type.Integer({ minimum: 1000, default: 120_000, description: 'largest clock difference accepted on a signed down message (replays inside it are refused by id)' }),
        maxBatchMessages: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        window: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'batches in flight without a cloud ack' }),
        ackTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        stallAfterSec: Type.Integer({ minimum: 1, default: 60, description: 'records waiting and no cloud acknowledgement for this long: edge.uplink_stalled alarm, /health degraded' }),
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
    care: Type.Object(
      {
        residentsFile: Type.Optional(Type.String({ minLength: 1, description: 'residents enrolled for elderly care (YAML/JSON, see edge-agent/src/care); unset turns the care rules off' })),
      },
      { additionalProperties: false, default: {} },
    ),
    devices: Type.Array(DeviceSchema, { default: [] }),
    cameras: Type.Array(CameraSchema, { default: [], description: 'cameras of this edge: ONVIF and/or a stream, with optional on-edge analytics' }),
    video: Type.Object(
      {
        model: Type.Union([Type.Literal('yolox'), Type.Literal('fastestdet')], { default: 'yolox', description: 'object detector' }),
        modelsDir: Type.Optional(Type.String({ minLength: 1, description: 'ONNX models, checked against their manifests (env MODELS_DIR)' })),
        streamLostSec: Type.Number({ minimum: 1, maximum: 600, default: 10, description: 'no frame from an analysed camera for this long raises camera.stream_lost' }),
      },
      { additionalProperties: false, default: {} },
    ),
    discovery: Type.Object(
      {
        interfaceAddress: Type.Optional(Type.String({ description: 'local address of the camera network interface; WS-Discovery probes leave from it' })),
        target: Type.Optional(Type.String({ description: 'probe destination: default the multicast group 239.255.255.250; a unicast address for a routed camera' })),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 3702 }),
        timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000, description: 'how long discover collects answers' }),
      },
      { additionalProperties: false, default: {} },
    ),
    cloud: Type.Object(
      {
        url: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'cloud ingest HTTP base URL (env CLOUD_URL); doctor reads its Date header for clock drift' }),
      },
      { additionalProperties: false, default: {} },
    ),
    evidence: EvidenceSchema,
    healthReportSec: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'how often the edge sends its own health (edge.* telemetry) to the cloud' }),
    logLevel: Type.String({ default: 'info' }),
  },
  { additionalProperties: false },
);

export type EdgeConfig = Readonly<Static<typeof EdgeConfigSchema>>;
export type EdgeDevice = Static<typeof DeviceSchema>;
export type EdgeCamera = Static<typeof CameraSchema>;
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

/** EDGE_ID, SITE_ID, EDGE_BROKER_PORT, EDGE_ADMIN_PORT, UPLINK_MQTT_URL, CLOUD_URL, EVIDENCE_UPLOAD_URL, DATA_DIR, MODELS_DIR, LOG_LEVEL override the file. */
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
  if (env.EDGE_SECRET) section('uplink').secret = env.EDGE_SECRET;
  if (env.CLOUD_URL) section('cloud').url = env.CLOUD_URL;
  if (env.DATA_DIR) out.dataDir = env.DATA_DIR;
  if (env.MODELS_DIR) section('video').modelsDir = env.MODELS_DIR;
  if (env.EVIDENCE_UPLOAD_URL) section('evidence').uploadUrl = env.EVIDENCE_UPLOAD_URL;
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  return out;
}

export function loadEdgeConfig(input: unknown): EdgeConfig {
  const cfg = validateConfig('edge', EdgeConfigSchema, input);
  const seen = new Set<string>();
  for (const d of [...cfg.devices, ...cfg.cameras]) {
    if (seen.has(d.id)) throw new CodedError('ERR_CONFIG', `invalid edge config: devices/cameras: id "${d.id}" appears twice`);
    seen.add(d.id);
  }
  for (const c of cfg.cameras) {
    if (!c.hostname && !c.stream) throw new CodedError('ERR_CONFIG', `invalid edge config: cameras: camera "${c.id}" needs hostname (ONVIF) or stream`);
  }
  const ev = cfg.evidence;
  // The pre-roll must be in the ring when the trigger comes (from then on the clip holds its segments).
  if (ev.enabled && ev.ringSeconds < ev.preSec + 2 * ev.segmentSec) {
    throw new CodedError('ERR_CONFIG', `invalid edge config: evidence.ringSeconds (${ev.ringSeconds}) must be at least preSec + 2 × segmentSec (${ev.preSec + 2 * ev.segmentSec})`);
  }
  return cfg;
}
