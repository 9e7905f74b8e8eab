/** QoS 1 publish throughput of one client against a broker: N publishes with a bounded window in flight. */
import mqtt from 'mqtt';

export async function qos1Rate(opts: { url: string; username?: string; password?: string; clientId: string; topic: string; payload: string; count: number; window: number }): Promise<number> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: opts.clientId, reconnectPeriod: 0,
    ...(opts.username ? { username: opts.username } : {}), ...(opts.password ? { password: opts.password } : {}),
  });
  let sent = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (sent < opts.count) {
      sent++;
      await client.publishAsync(opts.topic, opts.payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: opts.window }, lane));
  const seconds = (performance.now() - t0) / 1000;
  await client.endAsync();
  return opts.count / seconds;
}
