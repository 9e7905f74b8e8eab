/**
 * `npm run provision-edge -- <edge> --site S [--grace-s N] [--mosquitto-passwd FILE]` (issue 12): issues (or
 * rotates) an edge's own secret in the cloud's database (DATABASE_URL) and, with --mosquitto-passwd, adds
 * the edge's login to the deployment broker's password file (reload Mosquitto with SIGHUP afterwards). The
 * embedded broker of `npm start` reads the database directly, so the first step is all it needs.
 *
 * The secret is printed once, for the edge's EDGE_SECRET; only its hash is kept.
 */
import { parseArgs } from 'node:util';
import { CodedError, createLogger } from '@safe-community/runtime';
import { EdgeDirectory } from './auth/index.js';
import { upsertPasswordFile } from './mosquitto-passwd.js';
import { PgStore } from './store/pg-store.js';

const USAGE = 'usage: provision-edge <edge> --site SITE [--grace-s SECONDS] [--mosquitto-passwd FILE]   (DATABASE_URL names the cloud database)';

export async function provisionEdge(argv: readonly string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv], allowPositionals: true,
    options: { site: { type: 'string' }, 'grace-s': { type: 'string' }, 'mosquitto-passwd': { type: 'string' } },
  });
  const edge = positionals[0];
  if (!edge || !values.site) throw new CodedError('ERR_USAGE', USAGE);
  if (!env.DATABASE_URL) throw new CodedError('ERR_CONFIG', `DATABASE_URL is not set\n${USAGE}`);
  const graceS = values['grace-s'] === undefined ? undefined : Number(values['grace-s']);
  if (graceS !== undefined && (!Number.isInteger(graceS) || graceS < 0)) throw new CodedError('ERR_USAGE', `--grace-s must be a whole number of seconds\n${USAGE}`);
  const store = new PgStore({ url: env.DATABASE_URL, poolMax: 1, logger: createLogger({ name: 'provision-edge', level: 'warn' }) });
  await store.start();
  try {
    // The operator's own step, as a global admin would: moving an edge between sites is allowed here.
    const secret = await new EdgeDirectory(store).issue(edge, values.site, { by: 'cli', allowMove: true, ...(graceS !== undefined ? { graceS } : {}) });
    if (values['mosquitto-passwd']) {
      await upsertPasswordFile(values['mosquitto-passwd'], edge, secret);
      out(`broker login ${edge} written to ${values['mosquitto-passwd']} (reload Mosquitto: kill -HUP, or docker compose kill -s HUP mosquitto)`);
    }
    out(`edge ${edge} of site ${values.site}: secret (shown once; set it as the edge's EDGE_SECRET):`);
    out(secret);
    return 0;
  } finally {
    await store.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  provisionEdge(process.argv.slice(2), process.env, (l) => process.stdout.write(`${l}\n`)).then(
    (code) => process.exit(code),
    (err: Error & { code?: string }) => {
      process.stderr.write(`${err.code ?? 'ERR'}: ${err.message}\n`);
      process.exit(err.code === 'ERR_USAGE' ? 2 : 1);
    },
  );
}
