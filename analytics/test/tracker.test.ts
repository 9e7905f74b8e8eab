import t from 'tap';
import { Tracker, type Box, type TrackView } from '@safe-community/analytics/video';
import { det } from './video-helpers.js';

function box(cx: number, cy: number, w = 0.08, h = 0.25): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

function idsBy(tracks: TrackView[], pick: (t: TrackView) => boolean): number[] {
  return tracks.filter(pick).map((t) => t.id);
}

t.test('two people walking past each other keep their ids', async (t) => {
  const tr = new Tracker();
  const idsA = new Set<number>();
  const idsB = new Set<number>();
  for (let f = 0; f < 40; f++) {
    const ax = 0.1 + f * 0.02; // left → right
    const bx = 0.9 - f * 0.02; // right → left, overlapping A around f = 20
    const out = tr.update([det(box(ax, 0.5)), det(box(bx, 0.55))]);
    if (f === 0) {
      t.equal(out.length, 0, 'new tracks are tentative on their first frame');
      continue;
    }
    t.equal(out.length, 2, `frame ${f}: both tracked`);
    const at = (x: TrackView, cx: number, cy: number) =>
      Math.abs((x.box[0] + x.box[2]) / 2 - cx) < 0.01 && Math.abs((x.box[1] + x.box[3]) / 2 - cy) < 0.01;
    for (const id of idsBy(out, (x) => at(x, ax, 0.5))) idsA.add(id);
    for (const id of idsBy(out, (x) => at(x, bx, 0.55))) idsB.add(id);
  }
  t.equal(idsA.size, 1, 'A has one id throughout');
  t.equal(idsB.size, 1, 'B has one id throughout');
  t.not([...idsA][0], [...idsB][0]);
});

t.test('a short occlusion keeps the id; a long one ends the track', async (t) => {
  const tr = new Tracker({ maxLost: 5 });
  let id: number | undefined;
  for (let f = 0; f < 30; f++) {
    const x = 0.1 + f * 0.02;
    const hidden = (f >= 8 && f < 12) || f >= 20;
    const out = tr.update(hidden ? [] : [det(box(x, 0.5))]);
    if (f === 5) id = out[0]?.id;
    if (f === 12) t.equal(out[0]?.id, id, 'same id after 4 hidden frames (predicted along its path)');
    if (hidden) t.equal(out.length, 0, `frame ${f}: a lost track is not reported`);
  }
  t.equal(tr.size, 0, 'the track is forgotten after maxLost frames');
  tr.update([det(box(0.7, 0.5))]);
  const again = tr.update([det(box(0.72, 0.5))]);
  t.ok(again[0] && again[0].id !== id, 'a person seen much later gets a new id');
});

t.test('low-score detections extend a track but never start one', async (t) => {
  const tr = new Tracker();
  tr.update([det(box(0.3, 0.5), 0.9)]);
  const first = tr.update([det(box(0.31, 0.5), 0.9)]);
  const id = first[0]?.id;
  t.ok(id);
  // Partly hidden: the detector is unsure (0.3), but the box is where the track is.
  for (let f = 0; f < 5; f++) {
    const out = tr.update([det(box(0.32 + f * 0.01, 0.5), 0.3)]);
    t.equal(out[0]?.id, id, `low-score frame ${f} keeps id ${id}`);
  }
  const other = new Tracker();
  for (let f = 0; f < 5; f++) other.update([det(box(0.5, 0.5), 0.3)]);
  t.equal(other.size, 0, 'low-score boxes alone create nothing');
});

t.test('a one-frame false positive is never reported', async (t) => {
  const tr = new Tracker();
  const reported = new Set<number>();
  for (let f = 0; f < 10; f++) {
    const dets = [det(box(0.2, 0.5))];
    if (f === 4) dets.push(det(box(0.8, 0.2), 0.95));
    for (const x of tr.update(dets)) reported.add(x.id);
  }
  t.equal(reported.size, 1, 'only the real person');
});

t.test('matching respects labels', async (t) => {
  const tr = new Tracker();
  tr.update([det(box(0.5, 0.5), 0.9, 'person')]);
  const p = tr.update([det(box(0.5, 0.5), 0.9, 'person')])[0];
  tr.update([det(box(0.5, 0.5), 0.9, 'car')]);
  const out = tr.update([det(box(0.5, 0.5), 0.9, 'car')]);
  t.equal(out.length, 1);
  t.equal(out[0]?.label, 'car');
  t.not(out[0]?.id, p?.id, 'a car in the same place is a new object');
});
