/**
 * A closed race track as a centreline polyline with a constant width. Positions on it are
 * described by arc length along the centreline (progress) and signed lateral offset (left of the
 * driving direction is positive).
 */

export interface Track {
  readonly pointsX: Float64Array;
  readonly pointsY: Float64Array;
  /** Arc length at each point; the closing segment runs from the last point back to the first. */
  readonly arcLengthM: Float64Array;
  readonly lengthM: number;
  readonly halfWidthM: number;
}

export interface TrackPosition {
  segment: number;
  arcLengthM: number;
  lateralOffsetM: number;
  headingRad: number;
}

/**
 * Samples a closed Catmull-Rom spline through the control points, so corners are smooth curves
 * rather than polyline kinks that a kinematic car could never follow.
 */
export function buildClosedTrack(
  controlPoints: ReadonlyArray<readonly [number, number]>,
  halfWidthM: number,
  samplesPerControlSegment: number,
): Track {
  const count = controlPoints.length;
  const xs: number[] = [];
  const ys: number[] = [];
  const at = (index: number): readonly [number, number] => controlPoints[((index % count) + count) % count]!;
  for (let i = 0; i < count; i++) {
    const [x0, y0] = at(i - 1);
    const [x1, y1] = at(i);
    const [x2, y2] = at(i + 1);
    const [x3, y3] = at(i + 2);
    for (let k = 0; k < samplesPerControlSegment; k++) {
      const t = k / samplesPerControlSegment;
      xs.push(catmullRom(x0, x1, x2, x3, t));
      ys.push(catmullRom(y0, y1, y2, y3, t));
    }
  }
  const pointsX = Float64Array.from(xs);
  const pointsY = Float64Array.from(ys);
  const arcLengthM = new Float64Array(xs.length);
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    arcLengthM[i] = total;
    const next = (i + 1) % xs.length;
    total += Math.hypot(pointsX[next]! - pointsX[i]!, pointsY[next]! - pointsY[i]!);
  }
  return { pointsX, pointsY, arcLengthM, lengthM: total, halfWidthM };
}

function catmullRom(p0: number, p1: number, p2: number, p3: number, t: number): number {
  const t2 = t * t;
  const t3 = t2 * t;
  return 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t3);
}

export const segmentCount = (track: Track): number => track.pointsX.length;

function projectOntoSegment(track: Track, segment: number, x: number, y: number): { distanceSq: number; position: TrackPosition } {
  const next = (segment + 1) % segmentCount(track);
  const ax = track.pointsX[segment]!;
  const ay = track.pointsY[segment]!;
  const dx = track.pointsX[next]! - ax;
  const dy = track.pointsY[next]! - ay;
  const lengthSq = dx * dx + dy * dy;
  const along = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / lengthSq));
  const px = ax + along * dx;
  const py = ay + along * dy;
  const length = Math.sqrt(lengthSq);
  // Cross product of the segment direction with the offset: positive when the point is on the left.
  const lateralOffsetM = (dx * (y - ay) - dy * (x - ax)) / length;
  return {
    distanceSq: (x - px) ** 2 + (y - py) ** 2,
    position: {
      segment,
      arcLengthM: track.arcLengthM[segment]! + along * length,
      lateralOffsetM,
      headingRad: Math.atan2(dy, dx),
    },
  };
}

/**
 * Nearest centreline position. With a hint (the segment found on the previous step) only nearby
 * segments are searched: a car moves a few metres per step, and a local search cannot jump to
 * a different part of the track that happens to pass close by.
 */
export function projectOntoTrack(track: Track, x: number, y: number, hintSegment?: number): TrackPosition {
  const count = segmentCount(track);
  const window = 8;
  let best: { distanceSq: number; position: TrackPosition } | undefined;
  const consider = (segment: number): void => {
    const candidate = projectOntoSegment(track, segment, x, y);
    if (!best || candidate.distanceSq < best.distanceSq) best = candidate;
  };
  if (hintSegment === undefined) {
    for (let segment = 0; segment < count; segment++) consider(segment);
  } else {
    for (let offset = -window; offset <= window; offset++) consider((((hintSegment + offset) % count) + count) % count);
  }
  return best!.position;
}

/** Centreline point and driving direction at an arc length (any value; wraps around the lap). */
export function pointAtArcLength(track: Track, arcLengthM: number): { x: number; y: number; headingRad: number } {
  const s = ((arcLengthM % track.lengthM) + track.lengthM) % track.lengthM;
  let low = 0;
  let high = segmentCount(track) - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (track.arcLengthM[mid]! <= s) low = mid;
    else high = mid - 1;
  }
  const next = (low + 1) % segmentCount(track);
  const ax = track.pointsX[low]!;
  const ay = track.pointsY[low]!;
  const dx = track.pointsX[next]! - ax;
  const dy = track.pointsY[next]! - ay;
  const along = (s - track.arcLengthM[low]!) / Math.hypot(dx, dy);
  return { x: ax + along * dx, y: ay + along * dy, headingRad: Math.atan2(dy, dx) };
}

/** Signed difference between two arc lengths, taking the shorter way around the lap. */
export function arcLengthDelta(track: Track, fromM: number, toM: number): number {
  let delta = toM - fromM;
  if (delta > track.lengthM / 2) delta -= track.lengthM;
  else if (delta < -track.lengthM / 2) delta += track.lengthM;
  return delta;
}

export const wrapAngle = (angleRad: number): number => Math.atan2(Math.sin(angleRad), Math.cos(angleRad));
