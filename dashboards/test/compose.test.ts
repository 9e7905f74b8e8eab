/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is proven by reading: every file it
 * and the Dockerfile reference exists, ports and URLs agree across services, each service's variables
 * are ones that service reads, dependencies exist and are health-checked, Grafana's provisioning resolves.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  configs?: { source: string; target: string }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string; file?: string }>;
}
const compose = parse(composeText) as Compose;

/** Compose interpolation with every variable at its default (required ones get a stand-in value). */
function interpolate(text: string): string {
  return text
    .replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_m, _n: string, d: string) => d)
    .replace(/\$\{([A-Z0-9_]+):\?[^}]*\}/g, (_m, n: string) => `${n.toLowerCase()}-value`)
    .replace(/\$\$/g, '$');
}
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
const env = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(svc(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

/** The container port each service publishes, by its mapping `127.0.0.1:host:container`. */
function containerPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(interpolate(p).split(':').at(-1)));
}

/** Names a package's source reads from process.env (env.NAME or env['NAME']). */
function envReadBy(pkg: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/env(?:\.|\[['"])([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
    }
  };
  walk(join(root, pkg, 'src'));
  return names;
}

// The variables each Node service is documented to read (issue 7 / the services' config).
const SERVICE_ENV: Record<string, string[]> = {
  'cloud-ingest': ['DATABASE_URL', 'MQTT_URL', 'PORT', 'HOST', 'INGEST_SHARE_GROUP'],
  'edge-agent': ['EDGE_ID', 'SITE_ID', 'EDGE_BROKER_PORT', 'UPLINK_MQTT_URL', 'EDGE_CONFIG', 'DATA_DIR', 'MODELS_DIR'],
  simulators: ['MQTT_URL', 'SITE_ID', 'SIM_DEVICES'],
  timescaledb: ['POSTGRES_DB', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'GRAFANA_DB_PASSWORD'],
  mosquitto: ['MQTT_USER', 'MQTT_PASSWORD'],
};

t.test('the stack has every service', async (tt) => {
  tt.same(Object.keys(compose.services).sort(), ['cloud-ingest', 'edge-agent', 'grafana', 'mosquitto', 'simulators', 'timescaledb']);
  // The TimescaleDB minor the suite's TimescaleDB pass runs (../shared/timescaledb: 2.28.3).
  tt.match(svc('timescaledb').image ?? '', /^timescale\/timescaledb:2\.28\.\d+-pg1[5-7]$/, 'TimescaleDB 2.28, pinned, as tested');
  tt.match(svc('grafana').image ?? '', /^grafana\/grafana:\d/, 'Grafana, pinned');
  tt.match(svc('mosquitto').image ?? '', /^eclipse-mosquitto:2\./, 'Mosquitto 2 (MQTT 5 shared subscriptions)');
});

t.test('builds use targets of the root Dockerfile whose sources exist', async (tt) => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]!));
  for (const name of ['cloud-ingest', 'edge-agent', 'simulators']) {
    const b = svc(name).build;
    tt.equal(b?.context, '.', `${name} builds from the repository root`);
    tt.ok(existsSync(join(root, b?.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile exists`);
    tt.ok(b?.target && stages.has(b.target), `${name}: target ${b?.target} is a Dockerfile stage`);
  }
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
    const parts = m[1]!.trim().split(/\s+/);
    for (const src of parts.slice(0, -1)) tt.ok(existsSync(join(root, src)), `Dockerfile COPY source ${src} exists`);
  }
  // Each service's entry point (the .ts file its CMD runs) exists.
  const entries = [...dockerfile.matchAll(/^CMD\s+\[(.+)\]$/gm)].flatMap((m) => [...m[1]!.matchAll(/"([^"]+\.ts)"/g)].map((x) => x[1]!));
  tt.ok(entries.length >= 3, 'every Node target has a CMD');
  for (const f of entries) tt.ok(existsSync(join(root, f)), `CMD entry ${f} exists`);
});

t.test('mounted files, named volumes and configs exist', async (tt) => {
  for (const [name, s] of Object.entries(compose.services)) {
    for (const v of s.volumes ?? []) {
      const source = interpolate(v).split(':')[0]!;
      if (source.startsWith('.')) tt.ok(existsSync(join(root, source)), `${name}: bind source ${source} exists`);
      else tt.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} is declared`);
    }
    for (const c of s.configs ?? []) {
      const decl = compose.configs?.[c.source];
      tt.ok(decl?.content || (decl?.file && existsSync(join(root, decl.file))), `${name}: config ${c.source} is declared with content or an existing file`);
    }
  }
});

t.test('Grafana provisioning resolves to files in the repository', async (tt) => {
  const g = svc('grafana');
  const mounts = new Map((g.volumes ?? []).map((v) => {
    const [src, dst] = interpolate(v).split(':');
    return [dst!, src!];
  }));
  const prov = mounts.get('/etc/grafana/provisioning');
  tt.ok(prov, 'provisioning folder mounted');
  for (const sub of ['datasources', 'dashboards', 'alerting']) {
    const dir = join(root, prov ?? '', sub);
    tt.ok(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.yaml')), `provisioning/${sub} has YAML`);
  }
  // The dashboard provider's path must be where the generated JSON is mounted.
  const provider = parse(readFileSync(join(root, prov ?? '', 'dashboards/safe-community.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
  const path = provider.providers[0]?.options.path ?? '';
  const generated = mounts.get(path);
  tt.ok(generated, `provider path ${path} is a mount`);
  tt.ok(readdirSync(join(root, generated ?? '')).filter((f) => f.endsWith('.json')).length >= 7, 'the generated dashboards are there');
  const home = env('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
  tt.ok(existsSync(join(root, generated ?? '', posix.relative(path, home))), `home dashboard ${home} exists through the mount`);
});

t.test('each service sets only variables it reads', async (tt) => {
  for (const [name, allowed] of Object.entries(SERVICE_ENV)) {
    const read = envReadBy(name);
    for (const key of Object.keys(svc(name).environment ?? {})) {
      tt.ok(allowed.includes(key) || read.has(key), `${name}: ${key} is a variable it reads`);
    }
  }
  tt.ok(envReadBy('cloud-ingest').has('INGEST_SHARE_GROUP'), 'the ingest source reads INGEST_SHARE_GROUP (names agree)');
  // Grafana: its own GF_* settings plus exactly the variables its provisioning files expand.
  const provisioned = new Set<string>();
  for (const sub of ['datasources', 'dashboards']) {
    const dir = join(root, 'dashboards/provisioning', sub);
    for (const f of readdirSync(dir)) for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\$\{([A-Z0-9_]+)\}/g)) provisioned.add(m[1]!);
  }
  const gEnv = env('grafana');
  for (const v of provisioned) tt.ok(gEnv[v], `grafana: ${v} used by provisioning is set`);
  for (const key of Object.keys(gEnv)) tt.ok(key.startsWith('GF_') || provisioned.has(key), `grafana: ${key} is a Grafana setting or used by provisioning`);
});

t.test('ports and URLs agree across services', async (tt) => {
  const ingest = env('cloud-ingest');
  tt.same(containerPorts(svc('cloud-ingest')), [Number(ingest.PORT)], 'ingest publishes its PORT');
  tt.match(svc('cloud-ingest').healthcheck?.test.join(' ') ?? '', `:${ingest.PORT}/health`, 'ingest health check hits its PORT');
  const edge = env('edge-agent');
  tt.same(containerPorts(svc('edge-agent')), [Number(edge.EDGE_BROKER_PORT)], 'edge publishes its device broker port');
  tt.match(svc('edge-agent').healthcheck?.test.join(' ') ?? '', `connect(${edge.EDGE_BROKER_PORT},`, 'edge health check probes the broker port');
  const conf = compose.configs?.['mosquitto-conf'];
  const confText = conf?.content ?? (conf?.file ? readFileSync(join(root, conf.file), 'utf8') : '');
  const listener = /^listener (\d+)/m.exec(confText)?.[1];
  tt.same(containerPorts(svc('mosquitto')), [Number(listener)], 'mosquitto publishes its listener');
  tt.same(containerPorts(svc('timescaledb')), [5432]);
  // The agent reads its config file from EDGE_CONFIG; its device broker must listen beyond loopback.
  const edgeConfig = svc('edge-agent').configs?.find((c) => c.target === edge.EDGE_CONFIG);
  tt.ok(edgeConfig, 'EDGE_CONFIG is the mounted edge config');
  const edgeYaml = parse(compose.configs?.[edgeConfig?.source ?? '']?.content ?? '') as { broker?: { host?: string } };
  tt.equal(edgeYaml.broker?.host, '0.0.0.0', 'the device broker listens on all container interfaces');

  // Every URL points at a service on the port that service listens on, and the caller waits for it.
  const targets: [string, string, string][] = [
    ['cloud-ingest', 'DATABASE_URL', 'timescaledb'],
    ['cloud-ingest', 'MQTT_URL', 'mosquitto'],
    ['edge-agent', 'UPLINK_MQTT_URL', 'mosquitto'],
    ['simulators', 'MQTT_URL', 'edge-agent'],
    ['grafana', 'SC_DB_HOST', 'timescaledb'],
  ];
  for (const [from, key, to] of targets) {
    const raw = env(from)[key] ?? '';
    const url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
    tt.equal(url.hostname, to, `${from} ${key} names ${to}`);
    tt.ok(containerPorts(svc(to)).includes(Number(url.port)), `${from} ${key} uses ${to}'s port ${url.port}`);
    tt.ok(svc(from).depends_on?.[to], `${from} depends on ${to}`);
  }
  const db = new URL(ingest.DATABASE_URL ?? '');
  const ts = env('timescaledb');
  tt.equal(db.pathname.slice(1), ts.POSTGRES_DB, 'ingest and TimescaleDB agree on the database');
  tt.equal(decodeURIComponent(db.username), ts.POSTGRES_USER, 'and on the user');
  tt.equal(env('grafana').SC_DB_NAME, ts.POSTGRES_DB, 'Grafana reads the same database');
  tt.equal(new URL(ingest.MQTT_URL ?? '').username, env('mosquitto').MQTT_USER, 'ingest logs in as the broker user');

  const hostPorts = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => interpolate(p)));
  for (const p of hostPorts) tt.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${p} binds loopback only`);
  const published = hostPorts.map((p) => p.split(':')[1]);
  tt.equal(new Set(published).size, published.length, 'no two services publish the same host port');
});

t.test('dependencies exist and the awaited ones are health-checked', async (tt) => {
  for (const [name, s] of Object.entries(compose.services)) {
    for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
      tt.ok(compose.services[dep], `${name} depends on existing ${dep}`);
      if (cond.condition === 'service_healthy') tt.ok(compose.services[dep]?.healthcheck?.test.length, `${dep} has a health check for ${name}`);
    }
    if (name !== 'simulators') tt.ok(s.healthcheck?.test.length, `${name} has a health check`);
  }
});

t.test('secrets come from the environment, never from the file', async (tt) => {
  const vars = [...composeText.matchAll(/\$\{([A-Z0-9_]+)([^}]*)\}/g)];
  for (const [whole, , rest] of vars) tt.ok(rest!.startsWith(':-') || rest!.startsWith(':?'), `${whole} has a default or is required`);
  const required = new Set(vars.filter((m) => m[2]!.startsWith(':?')).map((m) => m[1]!));
  for (const r of required) tt.match(r, /(PASSWORD|SECRET)$/, `${r}: only secrets are required`);
  const header = composeText.split('\nname:')[0] ?? '';
  for (const r of required) tt.match(header, r, `${r} is named in the file's header`);
  const conf = compose.configs?.['mosquitto-conf'];
  const confText = conf?.content ?? (conf?.file ? readFileSync(join(root, conf.file), 'utf8') : '');
  tt.match(confText, /^allow_anonymous false$/m, 'the broker requires a login');
  tt.match(confText, /^acl_file /m, 'and applies topic rules');
});
