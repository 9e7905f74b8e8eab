/**
 * `edge-agent discover`: what is out there. ONVIF cameras answer a WS-Discovery probe (multicast on the
 * configured interface, or unicast with --target for a camera on a routed subnet); MQTT devices are the
 * ones the running agent's broker has seen (admin /devices). Cameras already in the config are marked,
 * and a config snippet is printed for new ones (credentials left for the installer to fill in). With
 * --details each camera is asked for its media profiles (token, size, codec, fps), PTZ and events, with
 * its configured credentials or --username/--password (none: an unauthenticated camera).
 */
import { parseArgs } from 'node:util';
import { errorCode } from '@safe-community/runtime';
import { OnvifSession, probe, type DiscoveredCamera, type MediaProfile } from './camera/index.js';
import { EXIT, askAgent, loadConfig, numberFlag, type CliIo } from './cli-common.js';
import type { EdgeConfig } from './config.js';
import { formatTable } from './doctor/index.js';

interface SeenDevice {
  id: string;
  kind: string;
  profile: string;
  online: boolean;
}

export async function discoverCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' }, target: { type: 'string' }, interface: { type: 'string' },
      port: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' },
      details: { type: 'boolean' }, username: { type: 'string' }, password: { type: 'string' },
    },
  });
  const cfg = loadConfig(values.config, io.env);
  const target = values.target ?? cfg.discovery.target;
  const iface = values.interface ?? cfg.discovery.interfaceAddress;
  const timeoutMs = numberFlag(values.timeout, 'timeout') ?? cfg.discovery.timeoutMs;
  const port = numberFlag(values.port, 'port') ?? cfg.discovery.port;

  io.out(`probing for ONVIF cameras ${target ? `at ${target}` : 'on the multicast group'}${iface ? ` from ${iface}` : ''} (${timeoutMs} ms)…`);
  let cameras: DiscoveredCamera[];
  try {
    cameras = await probe({ ...(target ? { target } : {}), ...(iface ? { interfaceAddress: iface } : {}), port, timeoutMs });
  } catch (err) {
    io.err(`${errorCode(err)}: ${(err as Error).message}`);
    return EXIT.failed;
  }
  // The admin endpoint lists cameras among the devices too; here they are the probe's business.
  const devices = (await askAgent<SeenDevice[]>(cfg, '/devices'))?.filter((d) => d.kind !== 'camera') ?? null;
  const details = values.details
    ? await Promise.all(cameras.map((c) => describe(cfg, c, { username: values.username, password: values.password }, timeoutMs)))
    : null;

  if (values.json) {
    io.out(JSON.stringify({ cameras: cameras.map((c, i) => ({ ...c, configured: configuredAs(cfg, c) ?? null, ...(details ? { details: details[i] } : {}) })), devices }));
    return cameras.length > 0 ? EXIT.ok : EXIT.failed;
  }
  if (cameras.length === 0) {
    io.out('no ONVIF camera answered (check the interface address, that the camera has discovery on, or use --target)');
  } else {
    io.out(formatTable(['camera', 'hardware', 'device service', 'configured as', 'endpoint'], cameras.map((c) => [
      c.name ?? '(no name)', c.hardware ?? '', c.xaddrs[0] ?? '', configuredAs(cfg, c) ?? 'new', c.urn,
    ])));
    if (details) {
      io.out('');
      io.out(formatTable(['device service', 'profile', 'size', 'codec', 'fps', 'PTZ', 'events'], details.flatMap((d, i) => {
        const where = cameras[i]!.xaddrs[0] ?? '';
        if ('error' in d) return [[where, `not read: ${d.error}`, '', '', '', '', '']];
        return d.profiles.map((p) => [where, p.token, p.width && p.height ? `${p.width}×${p.height}` : '?', p.encoding ?? '?', p.fps ? String(p.fps) : '?', p.ptz ? 'yes' : 'no', d.events ? 'yes' : 'no']);
      })));
    }
    const fresh = cameras.filter((c) => !configuredAs(cfg, c));
    if (fresh.length > 0) {
      io.out('\nto add the new cameras, put these under cameras: in the config and fill in the credentials:');
      fresh.forEach((c, i) => io.out(cameraSnippet(c, cfg.cameras.length + i + 1)));
    }
  }
  io.out('');
  if (devices === null) {
    io.out('MQTT devices: the agent is not answering on its admin port; start it (edge-agent run) to see devices that connected');
  } else {
    const online = devices.filter((d) => d.online).length;
    io.out(`MQTT devices known to the running agent: ${devices.length}, ${online} online`);
    if (devices.length > 0) io.out(formatTable(['device', 'kind', 'profile', 'online'], devices.map((d) => [d.id, d.kind, d.profile, d.online ? 'yes' : 'no'])));
  }
  return cameras.length > 0 ? EXIT.ok : EXIT.failed;
}

type CameraDetails = { profiles: MediaProfile[]; events: boolean; ptz: boolean } | { error: string };

/** Logs in to one discovered camera (its configured credentials, else the given ones) and reads its profiles. */
async function describe(cfg: EdgeConfig, c: DiscoveredCamera, given: { username?: string | undefined; password?: string | undefined }, timeoutMs: number): Promise<CameraDetails> {
  let url: URL;
  try {
    url = new URL(c.xaddrs[0] ?? '');
  } catch {
    return { error: 'no usable device service address' };
  }
  const known = cfg.cameras.find((k) => k.id === configuredAs(cfg, c));
  const session = new OnvifSession({
    camera: c.name ?? url.host,
    endpoint: {
      hostname: url.hostname, port: Number(url.port || 80), path: url.pathname,
      username: known?.username ?? given.username ?? '', password: known?.password ?? given.password ?? '',
    },
    timeoutMs,
  });
  try {
    await session.connect();
    const profiles = await session.profiles();
    return { profiles, events: session.hasEventsService, ptz: profiles.some((p) => p.ptz) };
  } catch (err) {
    return { error: `${errorCode(err)}: ${(err as Error).message}` };
  } finally {
    session.close();
  }
}

/** The configured camera id whose host and port match one of the answer's device service URLs. */
function configuredAs(cfg: EdgeConfig, c: DiscoveredCamera): string | undefined {
  for (const x of c.xaddrs) {
    let u: URL;
    try {
      u = new URL(x);
    } catch {
      // A camera advertising a malformed XAddr is still listed; it just cannot match a configured one.
      continue;
    }
    const port = Number(u.port || 80);
    const hit = cfg.cameras.find((k) => k.hostname === u.hostname && k.port === port);
    if (hit) return hit.id;
  }
  return undefined;
}

function cameraSnippet(c: DiscoveredCamera, n: number): string {
  const first = c.xaddrs[0] ?? '';
  let host = c.from;
  let port = 80;
  let path = '/onvif/device_service';
  try {
    const u = new URL(first);
    host = u.hostname;
    port = Number(u.port || 80);
    path = u.pathname;
  } catch {
    // No usable XAddr: fall back to the address the answer came from and the ONVIF default path.
    host = c.from;
  }
  return `  - { id: cam-${n}, hostname: ${host}, port: ${port}, path: ${path}, username: CHANGE_ME, password: CHANGE_ME }`;
}
