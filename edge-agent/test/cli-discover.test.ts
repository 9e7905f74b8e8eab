/**
 * `edge-agent discover` against the simulated ONVIF camera's WS-Discovery responder, by unicast on
 * 127.0.0.1, and against a running agent for the MQTT devices it has seen.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_DIR, freePort } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { CameraRig } from '@safe-community/simulators/camera';
import { runCli, EXIT, EdgeAgent, loadEdgeConfig } from '@safe-community/edge-agent';
import { capture, configDir } from './cli-rig.js';

t.test('discover finds the simulated camera by unicast and lists the agent\'s devices', async (t) => {
  const rig = new CameraRig({
    video: join(MEDIA_DIR, 'vtest_20s_h264.mp4'),
    camera: { credentials: { username: 'installer', password: 'pw-1' }, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg') },
    discovery: { address: '127.0.0.1', port: 0 },
  });
  await rig.start();
  t.teardown(() => rig.stop());
  const { dir, config } = await configDir(t, 'discover-');
  const adminPort = await freePort();
  const base = [
    'edge: { id: hub-d, site: site-d }',
    `dataDir: ${join(dir, 'data')}`,
    'broker: { port: 0 }',
    `admin: { port: ${adminPort} }`,
    `discovery: { target: 127.0.0.1, interfaceAddress: 127.0.0.1, port: ${rig.discovery!.port}, timeoutMs: 400 }`,
    'devices:',
    '  - { id: FP1, kind: fire_panel, profile: fire_panel.nova-json, tags: { building: B1 } }',
  ];
  await writeFile(config, base.join('\n'));

  let c = capture();
  t.equal(await runCli(['discover', '--config', config], c.io), EXIT.ok, c.err.join('\n'));
  let text = c.out.join('\n');
  t.comment(text);
  t.match(text, /probing for ONVIF cameras at 127\.0\.0\.1 from 127\.0\.0\.1/);
  t.ok(text.includes(rig.camera.deviceServiceUrl), 'the camera\'s device service URL is listed');
  t.match(text, /\bnew\b/, 'not yet in the config');
  t.match(text, new RegExp(`- \\{ id: cam-1, hostname: 127\\.0\\.0\\.1, port: ${rig.camera.port}, path: /onvif/device_service, username: CHANGE_ME`), 'a config snippet to paste');
  t.match(text, /the agent is not answering on its admin port/, 'no agent: said so, not an error');

  // With the camera in the config and the agent running, the camera is marked and devices are listed.
  await writeFile(config, [...base, `cameras:\n  - { id: lobby, hostname: 127.0.0.1, port: ${rig.camera.port}, username: installer, password: pw-1 }`].join('\n'));
  const agent = new EdgeAgent({
    config: loadEdgeConfig({ edge: { id: 'hub-d', site: 'site-d' }, dataDir: join(dir, 'data'), broker: { port: 0 }, admin: { port: adminPort },
      devices: [{ id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } }] }),
    logger: createLogger({ level: 'error' }),
  });
  await agent.start();
  t.teardown(() => agent.stop());
  c = capture();
  t.equal(await runCli(['discover', '--config', config, '--json'], c.io), EXIT.ok, c.err.join('\n'));
  const json = JSON.parse(c.out.at(-1)!) as { cameras: Array<{ xaddrs: string[]; configured: string | null; urn: string }>; devices: Array<{ id: string; online: boolean }> };
  t.equal(json.cameras.length, 1);
  t.same(json.cameras[0]?.xaddrs, [rig.camera.deviceServiceUrl]);
  t.equal(json.cameras[0]?.configured, 'lobby', 'matched to the configured camera by host and port');
  t.match(json.cameras[0]?.urn, /^urn:uuid:/);
  t.same(json.devices.map((d) => [d.id, d.online]), [['FP1', false]], 'the running agent\'s devices, offline until they connect');

  c = capture();
  t.equal(await runCli(['discover', '--config', config], c.io), EXIT.ok);
  text = c.out.join('\n');
  t.match(text, /lobby/);
  t.match(text, /MQTT devices known to the running agent: 1, 0 online/);
  t.match(text, /FP1\s+fire_panel\s+fire_panel\.nova-json\s+no/);
});

t.test('discover exits 1 when nothing answers', async (t) => {
  const silent = await freePort();
  const c = capture();
  t.equal(await runCli(['discover', '--target', '127.0.0.1', '--port', String(silent), '--interface', '127.0.0.1', '--timeout', '200'], { ...c.io, env: { EDGE_ADMIN_PORT: '0' } }), EXIT.failed);
  t.match(c.out.join('\n'), /no ONVIF camera answered/);
});

t.test('discover lists every device with its real address, and --details shows profiles, PTZ and events', async (t) => {
  const { SimulatedOnvifCamera, DiscoveryResponder } = await import('@safe-community/simulators/camera');
  const creds = { username: 'installer', password: 'pw-2' };
  const a = new SimulatedOnvifCamera({ credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg'), rtspBase: 'rtsp://127.0.0.1:8554' });
  const b = new SimulatedOnvifCamera({
    credentials: creds, snapshotFile: join(MEDIA_DIR, 'vtest_t12.jpg'), rtspBase: 'rtsp://127.0.0.1:8554', presets: [], quirks: { events: 'none' },
    profiles: [{ token: 'main265', name: 'main', width: 2560, height: 1440, fps: 20, streamPath: '/main', encoding: 'H265' }],
  });
  await a.start();
  await b.start();
  // Two cameras of one firmware answering the same probe, each reply with a ReplyTo of the anonymous role
  // in its header before the device's own EndpointReference.
  const responder = new DiscoveryResponder({
    address: '127.0.0.1', port: 0, replyToHeader: true, xaddrs: () => [a.deviceServiceUrl],
    others: () => [{ endpoint: 'urn:uuid:0b5e0e00-0000-4000-8000-00000000000b', xaddrs: [b.deviceServiceUrl] }],
  });
  await responder.start();
  t.teardown(async () => {
    await responder.stop();
    await a.stop();
    await b.stop();
  });
  const c = capture();
  const args = ['discover', '--target', '127.0.0.1', '--interface', '127.0.0.1', '--port', String(responder.port), '--timeout', '400', '--details', '--username', creds.username, '--password', creds.password];
  t.equal(await runCli([...args, '--json'], { ...c.io, env: { EDGE_ADMIN_PORT: '0' } }), EXIT.ok, c.err.join('\n'));
  const json = JSON.parse(c.out.at(-1)!) as { cameras: Array<{ urn: string; xaddrs: string[]; details: { profiles: Array<{ token: string; width: number; encoding: string; ptz: boolean }>; events: boolean; ptz: boolean } }> };
  t.equal(json.cameras.length, 2, 'both cameras listed, not collapsed into one');
  t.same(json.cameras.map((x) => x.xaddrs[0]).sort(), [a.deviceServiceUrl, b.deviceServiceUrl].sort());
  t.notOk(json.cameras.some((x) => x.urn.includes('role/anonymous')), 'the endpoint is the device\'s, not the WS-Addressing anonymous role');
  const of = (url: string) => json.cameras.find((x) => x.xaddrs[0] === url)!.details;
  t.match(of(a.deviceServiceUrl), { events: true, ptz: true, profiles: [{ token: 'profile_main', width: 768, encoding: 'H264' }, { token: 'profile_sub' }] });
  t.match(of(b.deviceServiceUrl), { events: false, ptz: false, profiles: [{ token: 'main265', width: 2560, encoding: 'H265', ptz: false }] });

  const plain = capture();
  t.equal(await runCli(args, { ...plain.io, env: { EDGE_ADMIN_PORT: '0' } }), EXIT.ok);
  const text = plain.out.join('\n');
  t.match(text, /main265\s+2560×1440\s+H265\s+20\s+no\s+no/, 'the table shows each profile with size, codec, fps, PTZ and events');
  t.notMatch(text, /pw-2/, 'the password is never printed');
});
