// numpy's bin lookup for just-bin-it's axes: edges from linspace (the engine's numpy-exact linspace), a value v
// falls in bin i when edges[i] <= v < edges[i+1], the last bin is closed, and anything outside [first, last] or NaN
// is dropped. This is what np.histogram(range=, bins=) and np.histogram2d/histogramdd (searchsorted side='right'
// with the on-edge fix) both compute. The kernels guess the bin arithmetically and correct it by one against the
// edges, so the result is exactly the edge rule whatever the rounding of the guess.
import { linspace } from "../engine/index.ts";

export interface NumpyAxis {
  readonly bins: number;
  readonly lo: number;
  readonly hi: number;
  /** bins / (hi - lo): the guess factor. */
  readonly scale: number;
  /** bins + 1 float64 edges, numpy's linspace. */
  readonly edges: Float64Array;
}

/** The axis numpy builds for `range=(lo, hi), bins=n` (an empty range is widened by ±0.5, as numpy does). */
export function numpyAxis(bins: number, lo: number, hi: number): NumpyAxis {
  if (!Number.isInteger(bins) || bins <= 0)
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!(lo <= hi)) throw new RangeError("max must be larger than min in range parameter.");
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new RangeError(`supplied range of [${lo}, ${hi}] is not finite`);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = linspace(lo, hi, bins + 1);
  for (let i = 0; i < bins; i++)
    if (!(edges[i] < edges[i + 1]))
      throw new RangeError(`Too many bins for data range. Cannot create ${bins} finite-sized bins.`);
  return { bins, lo, hi, scale: bins / (hi - lo), edges };
}

/** The bin of v, or -1 when numpy drops it. */
export function binOf(a: NumpyAxis, v: number): number {
  if (!(v >= a.lo && v <= a.hi)) return -1;
  const n = a.bins;
  const e = a.edges;
  let i = Math.trunc((v - a.lo) * a.scale);
  if (i >= n) i = n - 1;
  if (v < e[i]) i--;
  else if (i < n - 1 && v >= e[i + 1]) i++;
  return i;
}

type Ids = Int32Array | Uint32Array;

/** counts[bin(tof)] += 1 for every event (np.histogram). */
export function fill1d(a: NumpyAxis, tof: Ids, counts: Float64Array): void {
  const lo = a.lo;
  const hi = a.hi;
  const scale = a.scale;
  const e = a.edges;
  const last = a.bins - 1;
  const n = tof.length;
  for (let k = 0; k < n; k++) {
    const v = tof[k];
    if (!(v >= lo && v <= hi)) continue;
    let i = ((v - lo) * scale) | 0;
    if (i > last) i = last;
    if (v < e[i]) i--;
    else if (i < last && v >= e[i + 1]) i++;
    counts[i]++;
  }
}

/**
 * counts[bin(tof) * ny + bin(det)] += 1 for events inside both ranges (np.histogram2d(tof, det)). With
 * `ny == 1` and `counts` of length nx this is hist1d's det_range filter followed by the sum over detectors.
 */
export function fill2d(ax: NumpyAxis, ay: NumpyAxis, tof: Ids, det: Ids, counts: Float64Array): void {
  const xlo = ax.lo;
  const xhi = ax.hi;
  const xs = ax.scale;
  const xe = ax.edges;
  const xl = ax.bins - 1;
  const ylo = ay.lo;
  const yhi = ay.hi;
  const ys = ay.scale;
  const ye = ay.edges;
  const yl = ay.bins - 1;
  const ny = ay.bins;
  const n = Math.min(tof.length, det.length);
  for (let k = 0; k < n; k++) {
    const x = tof[k];
    const y = det[k];
    if (!(x >= xlo && x <= xhi && y >= ylo && y <= yhi)) continue;
    let i = ((x - xlo) * xs) | 0;
    if (i > xl) i = xl;
    if (x < xe[i]) i--;
    else if (i < xl && x >= xe[i + 1]) i++;
    let j = ((y - ylo) * ys) | 0;
    if (j > yl) j = yl;
    if (y < ye[j]) j--;
    else if (j < yl && y >= ye[j + 1]) j++;
    counts[i * ny + j]++;
  }
}

/** hist1d with det_range: tof binned, det only filtered (inclusive at both ends, as histogram2d's last bin). */
export function fill1dFiltered(
  ax: NumpyAxis,
  det: NumpyAxis,
  tof: Ids,
  ids: Ids,
  counts: Float64Array,
): void {
  const xlo = ax.lo;
  const xhi = ax.hi;
  const xs = ax.scale;
  const xe = ax.edges;
  const xl = ax.bins - 1;
  // Every detector value in [edges[0], edges[last]] lands in some bin; ranges are the edges' ends.
  const ylo = det.edges[0];
  const yhi = det.edges[det.bins];
  const n = Math.min(tof.length, ids.length);
  for (let k = 0; k < n; k++) {
    const x = tof[k];
    const y = ids[k];
    if (!(x >= xlo && x <= xhi && y >= ylo && y <= yhi)) continue;
    let i = ((x - xlo) * xs) | 0;
    if (i > xl) i = xl;
    if (x < xe[i]) i--;
    else if (i < xl && x >= xe[i + 1]) i++;
    counts[i]++;
  }
}

/**
 * fast_histogram.histogram1d(ids, range=(lo, hi), bins=n): half-open, bin = int((id - lo) * (n / (hi - lo))).
 * For dethist n = hi - lo, so the pixel is id - lo.
 */
export function fillPixels(lo: number, hi: number, nbins: number, ids: Ids, counts: Float64Array): void {
  const norm = nbins / (hi - lo);
  const n = ids.length;
  if (norm === 1 && Number.isInteger(lo)) {
    const span = hi - lo;
    for (let k = 0; k < n; k++) {
      const p = ids[k] - lo;
      if (p >= 0 && p < span) counts[p]++;
    }
    return;
  }
  for (let k = 0; k < n; k++) {
    const v = ids[k];
    if (v >= lo && v < hi) counts[Math.trunc((v - lo) * norm)]++;
  }
}
