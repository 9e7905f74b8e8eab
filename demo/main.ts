/**
 * `npm start`: the whole system on one machine, with a short story so a person can watch it work:
 * devices come online, a smoke detector in building B1 zone 3 alarms, the evacuation gates and the exit
 * barrier are held and confirmed, the panel is reset, a door is forced, a resident presses SOS (the edge's
 * care monitor raises it, the cloud calls her guard team every minute until someone acknowledges, and her
 * family from the third minute), and the stored rows are counted. Runs until Ctrl-C.
 */
import { configFromEnv } from '@safe-community/cloud-ingest';
import { describeExecution } from '@safe-community/edge-agent';
import { startSystem, type RunningSystem } from './system.js';

const say = (line: string): void => {
  const t = new Date().toISOString().slice(11, 23);
  process.stdout.write(`${t}  ${line}\n`);
};

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name}="${v}" is not a port number (0-65535)`);
    process.exit(2);
  }
  return n;
}

async function countRows(sys: RunningSystem): Promise<string> {
  const rows = await sys.ingest.store.query(
    `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM telemetry)::int AS telemetry,
            (SELECT count(*) FROM linkage_executions)::int AS linkage, (SELECT count(*) FROM alarms)::int AS alarms,
            (SELECT count(*) FROM command_results)::int AS commands, (SELECT count(*) FROM dead_letters)::int AS dead_letters`, []);
  const r = rows[0] as Record<string, number>;
  return Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ');
}

async function main(): Promise<void> {
  const started = Date.now();
  say('starting: cloud broker, cloud ingest, edge agent, simulated devices…');
  // ADMIN_TOKEN, SNAPSHOTS_DIR, NOTIFY_WEBHOOK_*, PGLITE_DATA_DIR, PUBLIC_URL… as the ingest reads them.
  const settings = configFromEnv(process.env);
  let pages = 'http://127.0.0.1:8080';
  const sys = await startSystem({
    ingestSettings: settings,
    ...(process.env.DEMO_PASSWORD ? { staffPassword: process.env.DEMO_PASSWORD } : {}),
    databaseUrl: process.env.DATABASE_URL || null,
    mqttUrl: process.env.MQTT_URL || null,
    port: intEnv('PORT', 8080),
    host: process.env.HOST || '127.0.0.1',
    edgeBrokerPort: intEnv('EDGE_BROKER_PORT', 0),
    cloudBrokerPort: intEnv('CLOUD_BROKER_PORT', 0),
    ...(process.env.DATA_DIR ? { dataDir: process.env.DATA_DIR } : {}),
    // The cloud's calls (no phone or SMS channel here): printed, so the escalation can be watched.
    notifier: {
      notify: async (alarm, level, channel) => say(`cloud: calling ${channel} (level ${level}) about ${alarm.type}${alarm.tags.resident ? ` of resident ${alarm.tags.resident}` : ` at ${alarm.device}`}, unacknowledged · ${pages}/alarms/${alarm.id}`),
    },
  });
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    clearInterval(story);
    clearInterval(telemetry);
    await sys.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  pages = (settings.api?.publicUrl ?? sys.apiUrl).replace(/\/+$/, '');
  const store = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : settings.pgliteDataDir ? `embedded PGlite in ${settings.pgliteDataDir}` : 'embedded PGlite in memory (set PGLITE_DATA_DIR to keep it)';
  say(`cloud API ${sys.apiUrl} (GET /health) · store: ${store} · cloud broker ${sys.cloudMqttUrl}`);
  say(`cloud broker: no anonymous logins; edge ${sys.agent.config.edge.id} logs in with its own credential and takes only signed commands`);
  say(`alarm console: ${pages}/console`);
  for (const l of sys.logins) {
    say(`sign in as ${l.user} (${l.role}): open ${l.link} (one-time link)${l.password ? ` or use password ${l.password} at ${pages}/sign-in` : ''}`);
  }
  if (settings.api?.adminToken) say('admin: the bearer token in ADMIN_TOKEN; POST /api/v1/users/<id>/sign-in-link issues a sign-in link for anyone');
  if (settings.notify?.webhookUrl) say('alarm calls also go to NOTIFY_WEBHOOK_URL');
  say(`edge ${sys.agent.config.edge.id}: device broker on 127.0.0.1:${sys.agent.broker.port}, ${sys.agent.linkage.ruleList().length} linkage rules`);
  const online = sys.agent.config.devices.filter((d) => sys.agent.devices.online(d.id));
  const byKind = new Map<string, number>();
  for (const d of online) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
  say(`devices online: ${online.length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')})`);

  sys.agent.linkage.onExecution((report) => {
    for (const line of describeExecution(report, sys.agent.devices)) say(line);
  });
  sys.agent.linkage.onNotice((text) => say(`notice: ${text}`));
  sys.agent.care?.onOutput((out, resident) => say(`care: ${resident.name} (${resident.id}): ${out.kind} ${out.alarm ? `alarm, ${out.severity}` : 'notice'} — ${out.message}`));
  if (sys.cameraRig) say(`camera CAM1: ONVIF ${sys.cameraRig.camera.deviceServiceUrl}, RTSP playing vtest_20s_h264.mp4, analytics ${sys.agent.video ? 'on (YOLOX-Nano, 5 fps, line "walkway", zone "lawn")' : 'off'}`);
  sys.agent.events.onEvent((e) => {
    if (e.kind === 'video.line_crossing') {
      const counts = Object.entries((e.payload.counts ?? {}) as Record<string, number>).map(([k, v]) => `${k} ${v}`).join(', ');
      say(`CAM1: person crossed the walkway going ${String(e.payload.direction)} (so far: ${counts}) · snapshot ${String(e.payload.snapshot)} (${String(e.payload.facesBlurred)} faces blurred)`);
    } else if (e.kind.startsWith('video.')) {
      say(`CAM1: ${e.kind.slice(6).replace(/_/g, ' ')} in ${String(e.payload.zone ?? e.payload.rule ?? '')}`);
    }
  });

  // Background telemetry, as real sensors and wearables send it.
  const telemetry = setInterval(() => {
    void sys.sims.sensor.reading({ temperature: 21 + Math.random(), humidity: 40 + Math.random() * 5, pm25: 12 + Math.random() * 3 }).catch(() => {});
    void sys.sims.wearable.vitals({ hr: 68 + Math.round(Math.random() * 8), spo2: 97, steps: 1200, bat: 80 }).catch(() => {});
  }, 2000);

  const steps: Array<[number, string, () => Promise<void>]> = [
    [2, 'FP1: smoke detector, building B1, zone 3, loop 1, detector 12', () => sys.sims.panels.FP1.raiseAlarm({ zone: 3, loop: 1, detector: 12, type: 'smoke' })],
    [10, 'FP1: panel reset', () => sys.sims.panels.FP1.reset()],
    // The courtyard gate of B1, which the walkway camera covers: the forced-door alarm gets a video clip.
    [14, 'G2: door forced', () => sys.sims.gates.G2.door('forced')],
    [18, 'W1: resident presses SOS', () => sys.sims.wearable.sos({ lat: 31.2304, lon: 121.4737 })],
  ];
  let tick = 0;
  const story = setInterval(() => {
    tick++;
    for (const [at, what, act] of steps) {
      if (at === tick) {
        say(`▶ ${what}`);
        act().catch((err: Error) => say(`simulator error: ${err.message}`));
      }
    }
    if (tick % 10 === 0) {
      countRows(sys).then((c) => say(`rows stored: ${c}`), (err: Error) => say(`store query failed: ${err.message}`));
    }
  }, 1000);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${(err as Error & { code?: string }).code ?? 'ERR'}: ${err.message}` : err);
  process.exit(1);
});
