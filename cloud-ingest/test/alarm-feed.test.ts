/**
 * The live alarm feed on its own (PGlite): a burst of changes larger than one poll's page reaches the
 * subscriber whole over the next polls; a stream ends after its time (the browser then reconnects and is
 * authenticated again).
 */
import t from 'tap';
import Fastify from 'fastify';
import { AlarmFeed, PgliteStore, createAlarmService } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { waitFor } from '@safe-community/testkit';

const silent = createLogger({ level: 'silent' });
const store = new PgliteStore({ logger: silent });
await store.start();
const alarms = createAlarmService({ db: store, logger: silent, pollMs: 60_000 });
await alarms.start();
const feed = new AlarmFeed({ db: store, pollMs: 50, pageRows: 2, maxStreamMs: 3000, logger: silent });
const app = Fastify({ logger: false });
app.decorateRequest('actor', null);
app.addHook('onRequest', async (req) => { req.actor = { user: 'watcher', role: 'security', sites: ['site-a'] }; });
feed.register(app);
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
t.teardown(async () => {
  await feed.stop();
  await app.close();
  await alarms.stop();
  await store.stop();
});

t.test('a burst over one page arrives whole; the stream ends on time and none is left', async (t) => {
  const r = await fetch(`${base}/alarms/events`);
  const reader = r.body!.getReader();
  let text = '';
  let ended = false;
  const pump = (async () => {
    for (;;) {
      const c = await reader.read();
      if (c.done) { ended = true; return; }
      text += Buffer.from(c.value).toString('utf8');
    }
  })();
  await waitFor(() => text.includes('event: ready'), { what: 'ready' });
  const raised: Array<{ id: string }> = [];
  for (let i = 0; i < 7; i++) raised.push(await alarms.raise({ site: 'site-a', device: `D${i}`, type: 'door.forced', severity: 'major', message: `door ${i}` }));
  await waitFor(() => raised.every((a) => text.includes(a.id)), { what: 'all seven alarms', timeoutMs: 5000 });
  t.pass('seven changes, read two audit rows per poll, all delivered');
  await waitFor(() => ended, { what: 'the stream to end after maxStreamMs', timeoutMs: 6000 });
  await pump;
  t.equal(feed.streams, 0, 'no stream left');
});
