/**
 * The agent's admin /metrics in Prometheus text: a real fire linkage (simulated panel and gate over the
 * agent's broker) feeds the latency histogram, the outbox holds what the uplink (connected to an
 * in-process broker with no cloud acking) has not had acknowledged, and the video pipeline's functions
 * show up per camera.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { RestartableBroker, startParts, waitFor } from '@safe-community/testkit';
import { SimulatedFirePanel, SimulatedGate } from '@safe-community/simulators';
import { EdgeMetrics, type ExecutionReport } from '@safe-community/edge-agent';
import { EVACUATION_GATE, FIRE_PANEL, deviceLogin, startAgent } from './agent-rig.js';

/** The value of one sample line, e.g. sample(text, 'edge_outbox_depth') or with a label filter. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('/metrics serves the edge series with live values', async (t) => {
  const [cloud] = await startParts(t, new RestartableBroker());
  const agent = await startAgent(t, {
    edge: { id: 'hub-m', site: 'site-m' },
    admin: { port: 0 },
    uplink: { url: cloud.url, ackTimeoutMs: 60_000 },
    devices: [FIRE_PANEL, EVACUATION_GATE],
  }, { logLevel: 'error' });
  const [panel] = await startParts(t,
    new SimulatedFirePanel({ ...await deviceLogin(agent, 'FP1'), dialect: 'nova-json' }),
    new SimulatedGate({ ...await deviceLogin(agent, 'G1'), dialect: 'acme-json' }));
  await waitFor(() => agent.devices.online('FP1') && agent.devices.online('G1'), { what: 'devices online' });
  await waitFor(() => agent.uplink?.metrics().connected === true, { what: 'uplink connected' });

  // One refused login, so the refusal counter has a sample to show.
  await t.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${agent.broker.port}`, { clientId: 'G1', username: 'G1', password: 'wrong', reconnectPeriod: 0 }), 'bad password refused');

  const reports: ExecutionReport[] = [];
  agent.linkage.onExecution((r) => reports.push(r));
  await panel.raiseAlarm({ zone: 3, loop: 1, detector: 12, type: 'smoke' });
  const report = await waitFor(() => reports.find((r) => r.execution.rule === 'fire-evacuation'), { what: 'fire linkage' });
  t.equal(report.execution.actions.find((a) => a.device === 'G1')?.status, 'confirmed', 'the gate confirmed by read-back');

  agent.metrics.videoInference('cam-1', 42);
  agent.metrics.videoInference('cam-1', 58);
  agent.metrics.videoFrames('cam-1', 10);
  agent.metrics.videoFps('cam-1', 4.9);
  agent.metrics.videoDropped('cam-1', 3);

  const res = await fetch(`http://127.0.0.1:${agent.admin!.port}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/plain/, 'Prometheus text format');
  const text = await res.text();

  for (const name of [
    'edge_outbox_depth', 'edge_outbox_oldest_age_seconds', 'edge_uplink_connected', 'edge_uplink_lag_seconds',
    'edge_linkage_action_confirmed_seconds_bucket', 'edge_broker_messages_accepted_total', 'edge_broker_messages_refused_total',
    'edge_devices_online', 'edge_inference_ms_bucket', 'edge_video_fps', 'edge_video_dropped_frames_total',
    'edge_process_cpu_seconds_total', 'edge_process_resident_memory_bytes',
  ]) t.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} served`);

  t.match(text, /^# TYPE edge_linkage_action_confirmed_seconds histogram/m);
  t.match(text, /edge="hub-m"/, 'every series carries the edge label');
  t.match(text, /site="site-m"/);
  t.equal(sample(text, 'edge_uplink_connected'), 1, 'uplink connected');
  t.ok((sample(text, 'edge_outbox_depth') ?? 0) >= 1, 'the fire alarm and its linkage wait in the outbox (no cloud acks)');
  t.ok((sample(text, 'edge_outbox_oldest_age_seconds') ?? -1) >= 0);
  t.equal(sample(text, 'edge_devices_online'), 2, 'panel and gate online');
  t.ok((sample(text, 'edge_broker_messages_accepted_total') ?? 0) >= 2, 'device messages counted');
  t.ok((sample(text, 'edge_broker_messages_refused_total', { reason: 'ERR_AUTH' }) ?? 0) >= 1, 'the bad login counted by reason');
  const confirmed = sample(text, 'edge_linkage_action_confirmed_seconds_count', { rule: 'fire-evacuation', action: 'hold_open' });
  t.equal(confirmed, 1, 'one hold_open latency observed from onExecution');
  t.ok((sample(text, 'edge_linkage_action_confirmed_seconds_sum', { action: 'hold_open' }) ?? 0) > 0, 'with a positive latency');
  t.equal(sample(text, 'edge_linkage_executions_total', { rule: 'fire-evacuation', status: 'confirmed' }), 1);
  t.equal(sample(text, 'edge_inference_ms_count', { camera: 'cam-1' }), 2);
  t.equal(sample(text, 'edge_inference_ms_sum', { camera: 'cam-1' }), 100);
  t.equal(sample(text, 'edge_video_fps', { camera: 'cam-1' }), 4.9);
  t.equal(sample(text, 'edge_video_frames_total', { camera: 'cam-1' }), 10);
  t.equal(sample(text, 'edge_video_dropped_frames_total', { camera: 'cam-1' }), 3);
});

t.test('broker refusals are counted by reason, and a standalone registry needs no parts', async (t) => {
  const m = new EdgeMetrics({ edge: 'e', site: 's', processMetrics: false });
  let refused: Record<string, number> = { ERR_AUTH: 2 };
  m.attach({ broker: { stats: () => ({ connectedDevices: 0, accepted: 7, refused, hookFailures: 0, stateWriteFailures: 0 }) } });
  let text = (await m.render()).body;
  t.equal(sample(text, 'edge_broker_messages_refused_total', { reason: 'ERR_AUTH' }), 2);
  t.equal(sample(text, 'edge_broker_messages_accepted_total'), 7);
  refused = { ERR_AUTH: 3, ERR_ACL: 1 };
  text = (await m.render()).body;
  t.equal(sample(text, 'edge_broker_messages_refused_total', { reason: 'ERR_AUTH' }), 3, 'read again at each scrape');
  t.equal(sample(text, 'edge_broker_messages_refused_total', { reason: 'ERR_ACL' }), 1);
  t.notMatch(text, /edge_process_cpu/, 'process metrics off when asked');

  // What CameraPipeline's onFrame hands over: 5 frames 200 ms apart, the motion gate skipping two.
  for (let i = 0; i < 5; i++) m.observeFrame('gate-cam', { detected: i % 2 === 0, timings: { detect: 20, total: 25 } }, 1000 + i * 200);
  text = (await m.render()).body;
  t.equal(sample(text, 'edge_video_frames_total', { camera: 'gate-cam' }), 5);
  t.equal(sample(text, 'edge_inference_ms_count', { camera: 'gate-cam' }), 3, 'inference observed only when the detector ran');
  t.equal(sample(text, 'edge_video_motion_skipped_total', { camera: 'gate-cam' }), 2);
  t.equal(sample(text, 'edge_video_fps', { camera: 'gate-cam' }), 5, 'frames 200 ms apart are 5 fps');
});
