// What is just-bin-it-specific about its binning, on top of the engine's axes: the edge lists numpy builds for
// `range=(lo, hi), bins=n` (checked as numpy checks them), the ROI's internal edge list with masked gap bins, and
// the published layouts of the detector image and the ROI. The counting itself is the engine's.
import { linspace } from "../engine/index.ts";

/** The bins + 1 edges numpy builds for `range=(lo, hi), bins=n` (an empty range is widened by ±0.5, as numpy does). */
export function numpyEdges(bins: number, lo: number, hi: number): Float64Array {
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
  return edges;
}

/**
 * The ROI's internal edge list (histogram2d_roi.py): per row `left + 0 .. left + width - 1`, a masked gap edge at
 * last + 1 when the next row does not start there, and finally last + 1 and last + 2, both masked, so that numpy's
 * closed last bin never counts id last + 1. `cell[b]` is the published cell of bin b (x * rows + row) or -1.
 */
export function roiBins(leftEdges: readonly number[], width: number): { edges: number[]; cell: Int32Array } {
  const rows = leftEdges.length;
  const edges: number[] = [];
  const cells: number[] = [];
  for (let r = 0; r < rows; r++) {
    const left = leftEdges[r];
    for (let x = 0; x < width; x++) {
      edges.push(left + x);
      cells.push(x * rows + r);
    }
    const last = left + width - 1;
    if (r + 1 < rows && leftEdges[r + 1] !== last + 1) {
      edges.push(last + 1);
      cells.push(-1);
    }
  }
  const last = leftEdges[rows - 1] + width - 1;
  edges.push(last + 1, last + 2);
  cells.push(-1);
  return { edges, cell: Int32Array.from(cells) };
}

/** The detector image's published layout: pixel p = y * width + x goes to data[x][y], flat x * height + y. */
export function detImage(
  pixels: Float64Array,
  width: number,
  height: number,
  out: Float64Array,
): Float64Array {
  for (let y = 0, p = 0; y < height; y++)
    for (let x = 0; x < width; x++, p++) out[x * height + y] = pixels[p];
  return out;
}
