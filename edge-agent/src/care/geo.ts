/** Geofence geometry: plain ray casting on lat/lon, which is exact enough for a home-sized polygon. */
import type { LatLon } from './residents.js';

/** True when the point lies inside the polygon (even-odd rule; a point on an edge may read either way). */
export function insidePolygon(p: LatLon, polygon: readonly LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if ((a.lat > p.lat) !== (b.lat > p.lat)) {
      const lonAtLat = ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon;
      if (p.lon < lonAtLat) inside = !inside;
    }
  }
  return inside;
}

/** Great-circle distance in metres (haversine). */
export function distanceM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Shortest distance in metres from a point to the polygon's outline, on a local flat projection (good to
 * well under a metre at home scale). Used as the geofence's dead band against GPS jitter.
 */
export function distanceToEdgeM(p: LatLon, polygon: readonly LatLon[]): number {
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((p.lat * Math.PI) / 180);
  const xy = (q: LatLon): [number, number] => [(q.lon - p.lon) * mPerDegLon, (q.lat - p.lat) * mPerDegLat];
  let best = Infinity;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [ax, ay] = xy(polygon[j]!);
    const [bx, by] = xy(polygon[i]!);
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    // Projection of the origin (the point) onto segment a→b, clamped to the segment.
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
    best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
  }
  return best;
}
