/**
 * Issue 16, evidence retention as a maintenance step: clips older than their site's retention go (file and
 * row), younger ones and other sites' stay; uploads abandoned for more than a day are discarded.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { access, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidenceRetention, Maintenance } from '@safe-community/cloud-ingest';
import { createLogger } from '@safe-community/runtime';
import { apiCall, basic, clipOf, createUser, putChunk, startEvidenceIngest, uploadAll } from './helpers/evidence.js';

const { ingest, dir, base } = await startEvidenceIngest(t, 'ev_retention');
const authA = basic('edge-a1', await ingest.edges.issue('edge-a1', 'site-a'));
const authB = basic('edge-b1', await ingest.edges.issue('edge-b1', 'site-b'));
const adminA = await createUser(base, 'admin-a', 'admin', ['site-a']);
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
const ageRow = (clip: string, days: number): Promise<unknown> =>
  ingest.store.query(`UPDATE evidence_clips SET received_at = now() - make_interval(days => $2::int) WHERE clip = $1`, [clip, days]);
const keyOf = async (clip: string): Promise<string> => String((await ingest.store.query<{ k: string }>('SELECT storage_key AS k FROM evidence_clips WHERE clip = $1', [clip]))[0]?.k);
const rows = async (): Promise<string[]> => (await ingest.store.query<{ clip: string }>('SELECT clip FROM evidence_clips ORDER BY clip')).map((r) => r.clip);

t.test('a maintenance round deletes clips past their site\'s retention, file and row, and abandoned uploads', async (t) => {
  t.equal((await apiCall(base, 'PUT', '/api/v1/sites/site-a/evidence-settings', adminA, { retentionDays: 7 })).status, 200);
  const oldA = clipOf(randomBytes(3000));
  const youngA = clipOf(randomBytes(3000));
  const oldB = clipOf(randomBytes(3000));
  for (const [c, auth] of [[oldA, authA], [youngA, authA], [oldB, authB]] as const) t.same(await uploadAll(base, c, 3000, auth), [201]);
  await ageRow(oldA.clip, 8); // past site A's 7 days
  await ageRow(youngA.clip, 6);
  await ageRow(oldB.clip, 8); // site B keeps the default 30 days
  const half = clipOf(randomBytes(3000));
  t.equal((await putChunk(base, half, 0, 999, authA)).status, 202);
  const partial = join(dir, 'site-a', '.partial', `${half.clip}.part`);
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  await utimes(partial, twoDaysAgo, twoDaysAgo);
  const fresh = clipOf(randomBytes(3000));
  t.equal((await putChunk(base, fresh, 0, 999, authA)).status, 202);

  const oldFile = join(dir, await keyOf(oldA.clip));
  t.ok(await exists(oldFile));
  const m = new Maintenance(ingest.store, {
    partitionsAheadDays: 7, retentionDays: 0, plateRetentionDays: 0, partitionIntervalSec: 3600, rollupRefreshSec: 60,
    logger: createLogger({ level: 'silent' }),
    evidence: new EvidenceRetention({ db: ingest.store, store: ingest.evidence, defaultRetentionDays: 30, logger: createLogger({ level: 'silent' }) }),
  });
  await m.runPartitions();
  t.same(m.failing(), {}, 'no step failed');
  t.notOk(await exists(oldFile), 'the old clip\'s file is gone');
  t.ok(await exists(join(dir, await keyOf(youngA.clip))), 'a younger clip stays');
  t.ok(await exists(join(dir, await keyOf(oldB.clip))), 'another site\'s clip of the same age stays (its retention is 30 days)');
  t.notOk(await exists(partial), 'the abandoned upload is discarded');
  t.ok(await exists(join(dir, 'site-a', '.partial', `${fresh.clip}.part`)), 'an upload in progress stays');
  t.same(await rows(), [youngA.clip, oldB.clip, fresh.clip].sort(), 'rows follow the files');
  t.equal((await fetch(`${base}/ingest/v1/evidence/${half.clip}`, { method: 'HEAD', headers: { authorization: authA } })).status, 404, 'the edge starts the abandoned one again from 0');
});
