/**
 * The box-level checks: device broker port, uplink broker, disk for the outbox, clock drift. Each returns
 * a CheckResult and never throws: a failure is a finding, and the next check still runs.
 */
import { createConnection, createServer } from 'node:net';
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import mqtt from 'mqtt';
import { errorCode, redactUrl } from '@safe-community/runtime';
import type { EdgeConfig } from '../config.js';
import type { CheckResult } from './types.js';

/**
 * With the agent running the device broker port must be listening; without it the port must be free
 * (another program holding 1884 would stop the agent at start).
 */
export async function checkBrokerPort(cfg: EdgeConfig, agentRunning: boolean): Promise<CheckResult> {
  const name = 'device broker port';
  const { host, port } = cfg.broker;
  if (port === 0) return { name, status: 'not checked', detail: 'broker.port is 0 (a free port is picked at start)' };
  const where = `${host}:${port}`;
  if (agentRunning) {
    const listening = await canConnect(host === '0.0.0.0' ? '127.0.0.1' : host, port);
    return listening
      ? { name, status: 'ok', detail: `${where} listening (agent running)` }
      : { name, status: 'fail', detail: `the agent answers on its admin port but nothing listens on ${where}` };
  }
  const err = await tryListen(host, port);
  if (!err) return { name, status: 'ok', detail: `${where} free for the agent` };
  return { name, status: 'fail', code: err.code, detail: `${where} cannot be used: ${err.message} (another program holds it? set broker.port)` };
}

function canConnect(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(timeoutMs, () => finish(false));
    s.once('connect', () => finish(true));
    s.once('error', () => finish(false));
  });
}

function tryListen(host: string, port: number): Promise<{ code: string; message: string } | null> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => done({ code: err.code ?? 'ERR_LISTEN', message: err.message }));
    srv.listen(port, host, () => srv.close(() => done(null)));
  });
}

/** MQTT CONNECT to the cloud broker with the configured credentials; CONNACK refused is a failure. */
export async function checkUplink(cfg: EdgeConfig, timeoutMs = 5000): Promise<CheckResult> {
  const name = 'uplink broker';
  const url = cfg.uplink.url;
  if (!url) return { name, status: 'not checked', detail: 'uplink.url is not set (events stay in the outbox)' };
  const t0 = performance.now();
  try {
    const client = await mqtt.connectAsync(url, {
      clientId: `doctor-${cfg.edge.id}-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      clean: true,
      // The same login the uplink uses: explicit user/password, else the edge's own id and secret.
      ...(cfg.uplink.username ? { username: cfg.uplink.username } : cfg.uplink.secret ? { username: cfg.edge.id } : {}),
      ...(cfg.uplink.password ? { password: cfg.uplink.password } : cfg.uplink.secret ? { password: cfg.uplink.secret } : {}),
    });
    const ms = Math.round(performance.now() - t0);
    await client.endAsync(true);
    const detail = `${redactUrl(url)} accepted the connection in ${ms} ms`;
    // Issue 12: without its own secret the box takes unsigned commands from whoever reaches its down topic.
    if (!cfg.uplink.secret) return { name, status: 'warn', detail: `${detail}; no uplink.secret (EDGE_SECRET): commands from the cloud are not authenticated`, figures: { connectMs: ms } };
    return { name, status: 'ok', detail, figures: { connectMs: ms } };
  } catch (err) {
    return { name, status: 'fail', code: errorCode(err), detail: `${redactUrl(url)}: ${redactUrl((err as Error).message || String(err))}` };
  }
}

/** Free space where the outbox lives, against the outbox capacity (what a long outage can fill). */
export async function checkDisk(cfg: EdgeConfig): Promise<CheckResult> {
  const name = 'disk for outbox';
  // The data dir may not exist before the first run; measure the nearest folder that does.
  let dir = resolve(cfg.dataDir);
  for (;;) {
    try {
      const s = await statfs(dir);
      const free = s.bavail * s.bsize;
      const need = cfg.outbox.capacityBytes;
      const detail = `${gib(free)} free at ${dir}; outbox capacity ${gib(need)}`;
      const figures = { freeBytes: free, capacityBytes: need };
      if (free < need) return { name, status: 'fail', detail: `${detail}: a long outage would fill the disk (lower outbox.capacityBytes or free space)`, figures };
      if (free < need * 2) return { name, status: 'warn', detail: `${detail}: less than twice the capacity`, figures };
      return { name, status: 'ok', detail, figures };
    } catch (err) {
      const parent = dirname(dir);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && parent !== dir) {
        dir = parent;
        continue;
      }
      return { name, status: 'fail', code: errorCode(err), detail: `cannot read free space at ${dir}: ${(err as Error).message}` };
    }
  }
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/**
 * Clock drift against the cloud's HTTP Date header. Date has one-second resolution, so the local time is
 * taken at the middle of the round trip and drift under a second cannot be told from none. Event times
 * and the alarm console depend on it; ONVIF event times are checked per camera by the camera client.
 */
export async function checkClock(cfg: EdgeConfig, maxDriftMs = 2000, timeoutMs = 5000): Promise<CheckResult> {
  const name = 'clock drift';
  const url = cfg.cloud.url;
  if (!url) return { name, status: 'not checked', detail: 'cloud.url is not set; no reference clock configured' };
  try {
    const t0 = Date.now();
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    const t1 = Date.now();
    const date = res.headers.get('date');
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server)) return { name, status: 'fail', detail: `${redactUrl(url)} sent no usable Date header` };
    // The header truncates to the second: compare against the middle of that second.
    const driftMs = Math.round((t0 + t1) / 2 - (server + 500));
    const rttMs = t1 - t0;
    const detail = `${driftMs >= 0 ? '+' : ''}${driftMs} ms against ${redactUrl(url)} (±${Math.round(500 + rttMs / 2)} ms)`;
    const figures = { driftMs, rttMs };
    return Math.abs(driftMs) > maxDriftMs
      ? { name, status: 'fail', detail: `${detail}: more than ${maxDriftMs} ms; fix NTP on this box`, figures }
      : { name, status: 'ok', detail, figures };
  } catch (err) {
    return { name, status: 'fail', code: errorCode(err), detail: `cannot read the time from ${redactUrl(url)}: ${(err as Error).message}` };
  }
}
