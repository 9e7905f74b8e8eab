/**
 * A TCP proxy on loopback that a test can cut: while cut, live connections are dropped and new ones
 * are closed at once, which is what a database outage looks like to the pg driver.
 */
import { createServer, connect, type Socket } from 'node:net';
import { freePort } from '@safe-community/testkit';

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let isCut = false;
  const live = new Set<Socket>();
  const server = createServer((inbound) => {
    if (isCut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(targetPort, targetHost);
    live.add(inbound);
    live.add(outbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      live.delete(inbound);
      live.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    cut() {
      isCut = true;
      for (const s of live) s.destroy();
      live.clear();
    },
    restore() {
      isCut = false;
    },
    async close() {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
