import t from 'tap';
import { loadConfig, configFromEnv } from '@safe-community/cloud-ingest';

t.test('defaults: loopback 8080, embedded store, no MQTT, frozen', async (t) => {
  const c = loadConfig({});
  t.equal(c.host, '127.0.0.1');
  t.equal(c.port, 8080);
  t.equal(c.databaseUrl, null);
  t.equal(c.mqttUrl, null);
  t.equal(c.shareGroup, 'ingest');
  t.equal(c.retry.maxMs, 10_000, 'nested defaults filled');
  t.equal(c.maintenance.partitionsAheadDays, 7);
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.retry), 'frozen all the way down');
});

t.test('unknown keys are refused, naming the key', async (t) => {
  t.throws(() => loadConfig({ prot: 1 }), { code: 'ERR_CONFIG', message: /unknown key prot/ });
  t.throws(() => loadConfig({ retry: { initialMs: 10, tries: 3 } }), { code: 'ERR_CONFIG', message: /unknown key retry\.tries/ });
});

t.test('bad values name their key', async (t) => {
  t.throws(() => loadConfig({ port: 70000 }), { code: 'ERR_CONFIG', message: /port/ });
  t.throws(() => loadConfig({ shareGroup: 'a/b' }), { code: 'ERR_CONFIG', message: /shareGroup/ });
  t.equal(loadConfig({}).timescale, 'auto', 'TimescaleDB when the server can run it, by default');
  t.throws(() => loadConfig({ timescale: 'yes' }), { code: 'ERR_CONFIG', message: /timescale/ });
  t.equal(loadConfig(configFromEnv({ STORE_TIMESCALE: 'off' })).timescale, 'off', 'env STORE_TIMESCALE');
  t.throws(() => loadConfig({ mqttProtocol: 4, consumers: 2 }), { code: 'ERR_CONFIG', message: /consumers/ });
});

t.test('environment: DATABASE_URL, MQTT_URL, PORT, HOST, INGEST_SHARE_GROUP', async (t) => {
  const c = loadConfig(configFromEnv({
    DATABASE_URL: 'postgres://u:p@db/x', MQTT_URL: 'mqtt://broker', PORT: '9090', HOST: '0.0.0.0', INGEST_SHARE_GROUP: 'g2',
  }));
  t.match(c, { databaseUrl: 'postgres://u:p@db/x', mqttUrl: 'mqtt://broker', port: 9090, host: '0.0.0.0', shareGroup: 'g2' });
  t.throws(() => configFromEnv({ PORT: 'eighty' }), { code: 'ERR_CONFIG', message: /PORT/ });
});
