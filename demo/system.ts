/**
 * The whole system on one machine: cloud broker → cloud ingest (PostgreSQL or PGlite) → edge agent →
 * simulated devices. `npm start` runs it with a story on top (main.ts); the end-to-end test drives it.
 * Started in that order, stopped in reverse.
 */
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundedDeadLetters, createIngestService, saveResidents, WebhookNotifier, type IngestConfigInput, type IngestService, type Notifier } from '@safe-community/cloud-ingest';
import { EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { createLogger, type Logger } from '@safe-community/runtime';
import {
  SimulatedFirePanel, SimulatedGate, SimulatedBarrier, SimulatedWearable, SimulatedEnvSensor, type SimulatedDevice,
} from '@safe-community/simulators';
import { CameraRig } from '@safe-community/simulators/camera';
import { parse as parseYaml } from 'yaml';
import { CloudBroker, type BrokerRefusal } from './cloud-broker.js';
import { ensureDemoStaff, type DemoLogin } from './staff.js';
import { DEMO_DEVICES, DEMO_EDGE, DEMO_GUARD_TEAM, DEMO_RESIDENTS_FILE, DEMO_SITE, demoCamera, MEDIA_DIR } from './site.js';

export interface SystemOptions {
  /** PostgreSQL URL; unset → embedded PGlite. */
  databaseUrl?: string | null;
  /** Cloud broker URL; unset → an embedded Aedes broker. */
  mqttUrl?: string | null;
  /** Cloud API port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Device broker port; 0 picks a free one. */
  edgeBrokerPort?: number;
  /** Edge data folder; unset → a temporary folder removed on stop. */
  dataDir?: string;
  logger?: Logger;
  /** Run the simulated ONVIF camera (RTSP playing a real video) with on-edge analytics. Default true. */
  camera?: boolean;
  /** Who the cloud calls about alarms (guard team, family…); default none. Calls also go to a configured webhook. */
  notifier?: Notifier;
  /**
   * Further ingest settings, as configFromEnv() reads them (ADMIN_TOKEN, SNAPSHOTS_DIR, NOTIFY_WEBHOOK_*,
   * PGLITE_DATA_DIR, PUBLIC_URL…); the options above win where both say something.
   */
  ingestSettings?: IngestConfigInput;
  /** Create the demo guard (and admin, without ADMIN_TOKEN) with sign-in links. Default true. */
  staff?: boolean;
  /** Their password when created; default a random one (printed once). */
  staffPassword?: string;
  /** Port of the embedded cloud broker (CLOUD_BROKER_PORT); unset or 0 picks a free one. */
  cloudBrokerPort?: number;
}

/** An external broker's URL may carry the login the demo's edge uses there (the embedded one checks the edge's own). */
function urlLogin(url: string | null | undefined): { username?: string; password?: string } {
  if (!url) return {};
  const u = new URL(url);
  return u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {};
}

/** Refused logins, publishes and subscriptions on the embedded broker go to the cloud's dead_letters (bounded). */
function recordRefusals(ingest: () => IngestService | undefined, log: Logger): (r: BrokerRefusal) => void {
  const record = boundedDeadLetters(async (d) => { await ingest()?.store.deadLetter([d]); }, log);
  return (r) => record({
    source: 'mqtt:broker', edge: r.principal, seq: null, code: r.code, payload: '',
    reason: `${r.detail}${r.topic ? ` (topic ${r.topic})` : ''}; client ${r.clientId}`,
  });
}

export interface Simulators {
  panels: { FP1: SimulatedFirePanel; FP2: SimulatedFirePanel };
  gates: { G1: SimulatedGate; G2: SimulatedGate; G3: SimulatedGate };
  barrier: SimulatedBarrier;
  wearable: SimulatedWearable;
  sensor: SimulatedEnvSensor;
  all: SimulatedDevice[];
}

export interface RunningSystem {
  ingest: IngestService;
  agent: EdgeAgent;
  sims: Simulators;
  cameraRig: CameraRig | null;
  cloudMqttUrl: string;
  apiUrl: string;
  /** How the demo's people sign in (empty when `staff` is false). */
  logins: DemoLogin[];
  stop(): Promise<void>;
}

export async function startSystem(opts: SystemOptions = {}): Promise<RunningSystem> {
  const log = opts.logger ?? createLogger({ name: 'system', level: process.env.LOG_LEVEL ?? 'error' });
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    while (stops.length > 0) {
      const s = stops.pop()!;
      try {
        await s();
      } catch (err) {
        log.error({ err }, 'stop failed');
      }
    }
  };
  try {
    // The embedded cloud broker logs edges in against the ingest's edge directory (made just below).
    let ingestRef: IngestService | undefined;
    let cloudMqttUrl = opts.mqttUrl ?? null;
    let ingestMqttUrl = cloudMqttUrl;
    if (!cloudMqttUrl) {
      const broker = new CloudBroker({
        ...(opts.cloudBrokerPort ? { port: opts.cloudBrokerPort } : {}),
        edges: { authenticate: async (edge, secret) => (ingestRef ? ingestRef.edges.authenticate(edge, secret) : null) },
        onRefused: recordRefusals(() => ingestRef, log),
      });
      await broker.start();
      stops.push(() => broker.stop());
      cloudMqttUrl = broker.url;
      ingestMqttUrl = broker.ingestUrl;
    }

    let dataDir = opts.dataDir;
    if (!dataDir) {
      const tmp = await mkdtemp(join(tmpdir(), 'safe-community-edge-'));
      stops.push(() => rm(tmp, { recursive: true, force: true }));
      dataDir = tmp;
    }
    const settings = opts.ingestSettings ?? {};
    // Calls go to the demo's printer and, when NOTIFY_WEBHOOK_URL is set, to the webhook as well (the service
    // itself takes one notifier: an injected one would silently replace the webhook).
    const webhook = settings.notify?.webhookUrl
      ? new WebhookNotifier({
        url: settings.notify.webhookUrl, token: settings.notify.webhookToken ?? null, logger: log.child({ part: 'notify' }),
        ...(settings.notify.timeoutMs !== undefined ? { timeoutMs: settings.notify.timeoutMs } : {}),
        ...(settings.notify.attempts !== undefined ? { attempts: settings.notify.attempts } : {}),
      })
      : undefined;
    const notifier = tee([opts.notifier, webhook]);
    // One machine: the cloud reads the pictures the edge took straight from the edge's snapshot folder, which
    // stands as the demo site's folder of the cloud's per-site snapshot store (`<dir>/<site>/<camera>/…`).
    const cloudSnapshots = join(dataDir, 'cloud-snapshots');
    if (!settings.api?.snapshotsDir) {
      await mkdir(join(dataDir, 'snapshots'), { recursive: true });
      await mkdir(cloudSnapshots, { recursive: true });
      await symlink(join(dataDir, 'snapshots'), join(cloudSnapshots, DEMO_SITE)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    const ingest = createIngestService({
      ...settings,
      api: { snapshotsDir: cloudSnapshots, ...settings.api },
      // Video evidence (issue 16): the walkway camera's clips around alarms are uploaded here.
      evidence: { dir: join(dataDir, 'cloud-evidence'), ...settings.evidence },
      databaseUrl: opts.databaseUrl ?? null,
      mqttUrl: ingestMqttUrl,
      // The embedded Aedes broker speaks MQTT 3.1.1; an external broker gets MQTT 5 and the share group.
      mqttProtocol: opts.mqttUrl ? 5 : 4,
      port: opts.port ?? 8080,
      host: opts.host ?? '127.0.0.1',
      clientId: `ingest-${DEMO_EDGE}-${process.pid}`,
    }, { logger: log, ...(notifier ? { notifier } : {}) });
    ingestRef = ingest;
    await ingest.start();
    stops.push(() => ingest.stop());
    // The demo edge's own credential (issue 12): its cloud broker login and the key of what comes down to it.
    const edgeSecret = await ingest.edges.issue(DEMO_EDGE, DEMO_SITE, { by: 'demo' });
    // Elderly care: the cloud keeps the same residents file as the edge, to call each resident's own contacts.
    await saveResidents(ingest.store, DEMO_SITE, parseYaml(await readFile(DEMO_RESIDENTS_FILE, 'utf8')), 'demo');
    const { host, port } = ingest.address();
    const apiUrl = `http://${host}:${port}`;
    const logins = (opts.staff ?? true)
      ? await ensureDemoStaff(ingest.store, { site: DEMO_SITE, team: DEMO_GUARD_TEAM, baseUrl: settings.api?.publicUrl ?? apiUrl, adminTokenGiven: Boolean(settings.api?.adminToken), password: opts.staffPassword })
      : [];
    // A camera as a real one would be: ONVIF SOAP over HTTP, an RTSP stream playing a real video.
    let cameraRig: CameraRig | null = null;
    if (opts.camera ?? true) {
      const rig = new CameraRig({
        video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'),
        camera: { host: '127.0.0.1', credentials: { username: 'installer', password: 'demo-camera-pass' }, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') },
        rtsp: { host: '127.0.0.1' },
      });
      await rig.start();
      stops.push(() => rig.stop());
      cameraRig = rig;
    }
    const agent = new EdgeAgent({
      config: loadEdgeConfig({
        edge: { id: DEMO_EDGE, site: DEMO_SITE },
        dataDir,
        broker: { port: opts.edgeBrokerPort ?? 0 },
        admin: { port: 0 },
        uplink: { url: cloudMqttUrl, secret: edgeSecret, ackTimeoutMs: 3000, ...urlLogin(opts.mqttUrl) },
        // The ingest's HTTP side: evidence clips upload there (and doctor reads its clock).
        cloud: { url: apiUrl },
        devices: DEMO_DEVICES,
        care: { residentsFile: DEMO_RESIDENTS_FILE },
        cameras: cameraRig ? [demoCamera(cameraRig.camera.port)] : [],
      }),
      logger: log,
    });
    await agent.start();
    stops.push(() => agent.stop());

    const url = `mqtt://127.0.0.1:${agent.broker.port}`;
    const creds = async (id: string) => ({ url, id, password: (await agent.broker.credentials.provision(id)).password });
    const sims: Simulators = {
      panels: {
        FP1: new SimulatedFirePanel({ ...(await creds('FP1')), dialect: 'nova-json' }),
        FP2: new SimulatedFirePanel({ ...(await creds('FP2')), dialect: 'gst-hex' }),
      },
      gates: {
        G1: new SimulatedGate({ ...(await creds('G1')), dialect: 'acme-json' }),
        G2: new SimulatedGate({ ...(await creds('G2')), dialect: 'keyway-delim' }),
        G3: new SimulatedGate({ ...(await creds('G3')), dialect: 'acme-json' }),
      },
      barrier: new SimulatedBarrier(await creds('BR1')),
      wearable: new SimulatedWearable(await creds('W1')),
      sensor: new SimulatedEnvSensor(await creds('S1')),
      all: [],
    };
    sims.all = [sims.panels.FP1, sims.panels.FP2, sims.gates.G1, sims.gates.G2, sims.gates.G3, sims.barrier, sims.wearable, sims.sensor];
    for (const d of sims.all) {
      await d.start();
      stops.push(() => d.stop());
    }
    return { ingest, agent, sims, cameraRig, cloudMqttUrl, apiUrl, logins, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One notifier that calls each of the given ones; a failure of one does not keep the others from calling. */
function tee(parts: Array<Notifier | undefined>): Notifier | undefined {
  const all = parts.filter((p): p is Notifier => p !== undefined);
  if (all.length <= 1) return all[0];
  return {
    notify: async (alarm, level, channel) => {
      const failed = (await Promise.allSettled(all.map((n) => n.notify(alarm, level, channel)))).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw new Error(`${failed.length} of ${all.length} notifiers failed: ${failed.map((f) => (f.reason as Error)?.message).join('; ')}`);
    },
  };
}
