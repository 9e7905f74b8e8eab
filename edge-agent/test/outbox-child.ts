/**
 * Child process for the kill -9 test: appends events to the outbox in `argv[2]` as fast as it can, with
 * many appends in flight (group commit), and prints `<seq> <i>` for every append that has resolved, i.e.
 * every record the outbox has promised is durable. The parent kills it with SIGKILL mid-stream.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createLogger } from '@safe-community/runtime';
import { Outbox } from '../src/outbox/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: outbox-child <dir>');
const outbox = new Outbox({ dir, edge: 'edge-k9', site: 'site-1', segmentBytes: 256 * 1024, logger: createLogger({ level: 'silent' }) });
await outbox.start();
// The first line tells the parent where this life's seqs begin.
process.stdout.write(`start ${outbox.stats().lastSeq}\n`);
let i = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const n = i++;
    const seq = await outbox.append({
      type: 'event',
      data: {
        id: randomUUID(), site: 'site-1', edge: 'edge-k9', device: 'fp-1', kind: 'fire.alarm', severity: 'critical',
        edgeTime: new Date().toISOString(), payload: { i: n, pad: 'x'.repeat(n % 200) },
      },
    });
    // Reported only after it resolved; a line still buffered at the kill just goes unchecked.
    if (!process.stdout.write(`${seq} ${n}\n`)) await once(process.stdout, 'drain');
  }
};
await Promise.all(Array.from({ length: 32 }, worker));
