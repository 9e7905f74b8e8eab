/**
 * The agent's local admin endpoint (loopback by default): GET /health, GET /devices (cameras included),
 * GET /cameras (each camera's state, reason and since when), GET /drill?building=B, GET /metrics (Prometheus text). The CLI's `drill` and `devices` ask a running agent here, so an installer
 * sees live online state without touching the device broker.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DeviceDirectory } from './ports.js';
import type { DrillReport } from './linkage/index.js';
import { healthHttpStatus, type HealthReport } from '@safe-community/runtime';

export interface AdminSources {
  devices: DeviceDirectory;
  drill(building: string, zone?: string): DrillReport;
  /** Each part up / degraded / down with its reason; 503 only when one is down. */
  health(): Promise<HealthReport>;
  cameras?(): unknown[];
  metrics?(): Promise<{ contentType: string; body: string }>;
}

export class AdminServer {
  private server: Server | null = null;
  private boundPort = 0;

  constructor(private readonly opts: { host: string; port: number; sources: AdminSources }) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: Error) => send(res, 500, { code: 'ERR_ADMIN', message: err.message }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET') return send(res, 405, { code: 'ERR_METHOD', message: 'only GET' });
    const { sources } = this.opts;
    switch (url.pathname) {
      case '/health': {
        const h = await sources.health();
        // Each camera is a part of the report (`camera:<id>`); GET /cameras has the detail.
        return send(res, healthHttpStatus(h), h);
      }
      case '/cameras':
        return send(res, 200, sources.cameras?.() ?? []);
      case '/devices':
        return send(res, 200, sources.devices.list().map((d) => ({ ...d, online: sources.devices.online(d.id), state: sources.devices.state(d.id) })));
      case '/drill': {
        const building = url.searchParams.get('building');
        if (!building) return send(res, 400, { code: 'ERR_DRILL_BUILDING', message: 'query parameter building is required' });
        return send(res, 200, sources.drill(building, url.searchParams.get('zone') ?? undefined));
      }
      case '/metrics': {
        if (!sources.metrics) return send(res, 404, { code: 'ERR_NOT_FOUND', message: 'metrics are off' });
        const m = await sources.metrics();
        res.writeHead(200, { 'content-type': m.contentType });
        res.end(m.body);
        return;
      }
      default:
        return send(res, 404, { code: 'ERR_NOT_FOUND', message: `no route ${url.pathname}` });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
