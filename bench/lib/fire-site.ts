/**
 * A site of simulated devices around one edge agent, for the path and linkage benchmarks: fire alarms go
 * in through a simulated panel; the time to the gate commands leaving the broker and to the read-backs
 * is measured from outside the engine (broker subscription and read-back listener, one clock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeAgent, loadEdgeConfig, type EdgeDevice } from '@safe-community/edge-agent';
import { createLogger } from '@safe-community/runtime';
import {
  SimulatedFirePanel, SimulatedGate, SimulatedBarrier, SimulatedEnvSensor, SimulatedWearable, type SimulatedDevice,
} from '@safe-community/simulators';

export interface FireSiteOptions {
  gates: number;
  barriers: number;
  sensors: number;
  wearables: number;
  /** Devices configured on the edge but not simulated (the benchmark drives them itself). */
  extraDevices?: EdgeDevice[];
}

export interface AlarmTiming {
  commandsMs: number;
  confirmMs: number;
  missed: number;
}

export class FireSite {
  agent!: EdgeAgent;
  panel!: SimulatedFirePanel;
  sims: SimulatedDevice[] = [];
  sensors: SimulatedEnvSensor[] = [];
  wearables: SimulatedWearable[] = [];
  private dir = '';
  private expected = new Set<string>();
  private commandAt = new Map<string, number>();
  private confirmAt = new Map<string, number>();

  constructor(private readonly opts: FireSiteOptions) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'bench-fire-'));
    const devices: EdgeDevice[] = [{ id: 'FP1', kind: 'fire_panel', profile: 'fire_panel.nova-json', tags: { building: 'B1' } }];
    for (let i = 0; i < this.opts.gates; i++) devices.push({ id: `G${i}`, kind: 'access_gate', profile: i % 2 ? 'access_gate.keyway-delim' : 'access_gate.acme-json', tags: { building: 'B1', role: 'evacuation_gate' } });
    for (let i = 0; i < this.opts.barriers; i++) devices.push({ id: `BR${i}`, kind: 'car_barrier', profile: 'car_barrier.parkline-json', tags: { role: 'exit_barrier' } });
    for (let i = 0; i < this.opts.sensors; i++) devices.push({ id: `S${i}`, kind: 'env_sensor', profile: 'env_sensor.airsense-json', tags: { building: 'B1' } });
    for (let i = 0; i < this.opts.wearables; i++) devices.push({ id: `W${i}`, kind: 'wearable', profile: 'wearable.carelink-json', tags: { building: 'B1' } });
    devices.push(...(this.opts.extraDevices ?? []));
    this.agent = new EdgeAgent({
      config: loadEdgeConfig({
        edge: { id: 'bench-edge', site: 'bench-site' },
        dataDir: this.dir,
        broker: { port: 0, ratePerSecond: 0 },
        admin: { enabled: false },
        devices,
      }),
      logger: createLogger({ level: 'error' }),
    });
    await this.agent.start();
    const url = `mqtt://127.0.0.1:${this.agent.broker.port}`;
    const creds = async (id: string) => ({ url, id, password: (await this.agent.broker.credentials.provision(id)).password });
    this.panel = new SimulatedFirePanel({ ...(await creds('FP1')), dialect: 'nova-json' });
    this.sims.push(this.panel);
    for (const d of devices) {
      if (d.kind === 'access_gate') this.sims.push(new SimulatedGate({ ...(await creds(d.id)), dialect: d.profile.endsWith('keyway-delim') ? 'keyway-delim' : 'acme-json' }));
      if (d.kind === 'car_barrier') this.sims.push(new SimulatedBarrier(await creds(d.id)));
      if (d.kind === 'env_sensor') this.sensors.push(new SimulatedEnvSensor(await creds(d.id)));
      if (d.kind === 'wearable') this.wearables.push(new SimulatedWearable(await creds(d.id)));
    }
    this.sims.push(...this.sensors, ...this.wearables);
    for (let i = 0; i < this.sims.length; i += 20) await Promise.all(this.sims.slice(i, i + 20).map((s) => s.start()));
    for (const d of devices) if (d.kind === 'access_gate' || d.kind === 'car_barrier') this.expected.add(d.id);

    // Commands as they leave the broker towards the devices, and read-backs as the engine sees them.
    const commandTopics = new Map<string, string>();
    for (const id of this.expected) for (const topic of this.agent.devices.commandTopics(id)) commandTopics.set(topic, id);
    await this.agent.broker.subscribe('devices/#', (topic) => {
      const device = commandTopics.get(topic);
      if (device && !this.commandAt.has(device)) this.commandAt.set(device, performance.now());
    });
    this.agent.devices.onReadBack((rb) => {
      if (rb.ok && !this.confirmAt.has(rb.device)) this.confirmAt.set(rb.device, rb.at);
    });
  }

  /** One fire alarm in; resolves when every gate and barrier confirmed or `timeoutMs` passed. Then resets. */
  async alarm(timeoutMs = 5000): Promise<AlarmTiming> {
    this.commandAt.clear();
    this.confirmAt.clear();
    const t0 = performance.now();
    await this.panel.raiseAlarm({ zone: 3, loop: 1, detector: 7, type: 'smoke' });
    const deadline = t0 + timeoutMs;
    while (this.confirmAt.size < this.expected.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    const cmdTimes = [...this.expected].map((d) => this.commandAt.get(d) ?? Infinity);
    const confTimes = [...this.expected].map((d) => this.confirmAt.get(d) ?? Infinity);
    const missed = confTimes.filter((x) => x === Infinity).length;
    const timing = { commandsMs: Math.max(...cmdTimes) - t0, confirmMs: Math.max(...confTimes) - t0, missed };
    // Reset the panel so the next alarm is a new episode (the fire rule latches per building until reset).
    this.confirmAt.clear();
    await this.panel.reset();
    const resetDeadline = performance.now() + timeoutMs;
    while (this.confirmAt.size < this.expected.size && performance.now() < resetDeadline) await new Promise((r) => setTimeout(r, 1));
    await this.agent.linkage.idle();
    return timing;
  }

  /** `warmup` alarms unmeasured, then `count` measured ones, one after another. */
  async alarms(count: number, warmup: number): Promise<{ cmd: number[]; conf: number[]; missed: number }> {
    for (let i = 0; i < warmup; i++) await this.alarm();
    const out = { cmd: [] as number[], conf: [] as number[], missed: 0 };
    for (let i = 0; i < count; i++) {
      const r = await this.alarm();
      out.cmd.push(r.commandsMs);
      out.conf.push(r.confirmMs);
      out.missed += r.missed;
    }
    return out;
  }

  async stop(): Promise<void> {
    for (const s of this.sims) await s.stop().catch(() => {});
    await this.agent.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
