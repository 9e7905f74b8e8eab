/**
 * Multicast WS-Discovery, the way it runs in production (probe to 239.255.255.250:3702), kept off the
 * network: this file re-runs itself inside a fresh network namespace (`unshare -n`) that has nothing but
 * loopback, with a 224.0.0.0/4 route on lo. The camera, its discovery responder and the prober all live in
 * that namespace, and the child refuses to probe if it sees any interface besides lo.
 */
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const CHILD_FLAG = 'CAMERA_NETNS_CHILD';

async function child(): Promise<void> {
  const names = Object.keys(networkInterfaces());
  if (names.some((n) => n !== 'lo')) throw new Error(`refusing to multicast: interfaces ${names.join(',')} present`);
  const { SimulatedOnvifCamera, DiscoveryResponder } = await import('@safe-community/simulators/camera');
  const { MEDIA_DIR } = await import('@safe-community/testkit');
  const { probe, OnvifSession } = await import('../src/camera/index.js');
  const creds = { username: 'installer', password: 'pw-netns' };
  const sim = new SimulatedOnvifCamera({ credentials: creds, snapshotFile: join(MEDIA_DIR, 'person.jpg'), rtspBase: 'rtsp://127.0.0.1:8554' });
  await sim.start();
  const responder = new DiscoveryResponder({ address: '127.0.0.1', multicast: true, xaddrs: () => [sim.deviceServiceUrl] });
  await responder.start();
  try {
    const found = await probe({ interfaceAddress: '127.0.0.1', timeoutMs: 800 });
    const first = found[0];
    let model = '';
    if (first?.xaddrs[0]) {
      const url = new URL(first.xaddrs[0]);
      const session = new OnvifSession({ camera: 'netns', endpoint: { hostname: url.hostname, port: Number(url.port), path: url.pathname, ...creds } });
      await session.connect();
      model = (await session.deviceInformation()).model;
      session.close();
    }
    process.stdout.write(JSON.stringify({ count: found.length, urn: first?.urn, expectedUrn: responder.endpointReference, xaddr: first?.xaddrs[0], expectedXaddr: sim.deviceServiceUrl, probes: responder.probeCount, model }) + '\n');
  } finally {
    await responder.stop();
    await sim.stop();
  }
}

async function parent(): Promise<void> {
  const { default: t } = await import('tap');
  const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
  t.ok(canUnshare, 'network namespaces are available (run the suite as root; `unshare -n` needs CAP_SYS_ADMIN)');
  if (!canUnshare) return;

  t.test('multicast probe inside a loopback-only namespace finds the simulated camera', async (t) => {
    const self = fileURLToPath(import.meta.url);
    const script = 'ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec "$0" "$@"';
    const proc = spawn('unshare', ['-n', 'sh', '-c', script, process.execPath, '--import', 'tsx', self], {
      env: { ...process.env, [CHILD_FLAG]: '1' },
      // `--import tsx` resolves from the working directory: the repository root.
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    t.equal(code, 0, `child exited cleanly ${err.slice(-500)}`);
    const line = out.trim().split('\n').pop() ?? '{}';
    const r = JSON.parse(line) as Record<string, unknown>;
    t.equal(r.count, 1, 'one camera answered the multicast probe');
    t.equal(r.urn, r.expectedUrn);
    t.equal(r.xaddr, r.expectedXaddr);
    t.equal(r.probes, 1, 'the responder saw exactly one probe');
    t.equal(r.model, 'SimCam-100', 'the discovered address serves ONVIF');
  });
}

if (process.env[CHILD_FLAG] === '1') {
  child().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  await parent();
}
