/** What the rules see of one committed envelope: the records it actually wrote, grouped by type. */
import type { Alarm, DeviceStatus, Event, LinkageExecution } from '@safe-community/contracts';
import type { IngestBatch, WriteResult } from '../store/types.js';

export interface CommittedBatch {
  events: Event[];
  alarms: Alarm[];
  statuses: DeviceStatus[];
  linkages: LinkageExecution[];
}

export const emptyCommitted = (): CommittedBatch => ({ events: [], alarms: [], statuses: [], linkages: [] });

/**
 * The records of `batch` this write committed: valid items past the duplicates and up to `upTo`. Items
 * are sorted by seq and unique, so the duplicates are the first `result.duplicates` of them.
 */
export function committedFromBatch(batch: IngestBatch, result: WriteResult): CommittedBatch {
  const out = emptyCommitted();
  if (result.gap) return out;
  for (const it of batch.items.slice(result.duplicates)) {
    if (it.seq > result.upTo) break;
    if (!it.ok) continue;
    const m = it.msg;
    if (m.type === 'event') out.events.push(m.data);
    else if (m.type === 'alarm') out.alarms.push(m.data);
    else if (m.type === 'status') out.statuses.push(m.data);
    else if (m.type === 'linkage') out.linkages.push(m.data);
  }
  return out;
}
