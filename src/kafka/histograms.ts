// just-bin-it's four histogram types (hist1d, hist2d, dethist, roihist) with its exact numpy / fast_histogram
// binning, shapes, data layouts, edges and dtypes (just-bin-it.md §3). Counts live in a Float64Array in
// the layout that is cheapest to fill; `data()` returns the published C-order array.
import { fill1d, fill1dFiltered, fill2d, fillPixels, type NumpyAxis, numpyAxis } from "./binning.ts";
import type { HistogramSpec } from "./config-commands.ts";

export type Ids = Int32Array | Uint32Array;

/** A published edge array: float64, or Python ints (int64) for the ROI's edges. */
export type Edges = Float64Array | BigInt64Array;

export interface HistogramView {
  shape: number[];
  edges: Edges[];
  /** C order. */
  data: Float64Array;
  /** numpy dtype of the data: int64 for hist1d without det_range, else float64. */
  intData: boolean;
}

export abstract class JbiHistogram {
  readonly id: string;
  readonly topic: string;
  /** "" means every source. */
  readonly source: string;
  readonly type: string;
  protected counts: Float64Array;
  protected constructor(spec: HistogramSpec, cells: number) {
    this.id = spec.id;
    this.topic = spec.topic;
    this.source = spec.source.trim() === "" ? "" : spec.source;
    this.type = spec.type;
    this.counts = new Float64Array(cells);
  }
  /** Whether events of this source are histogrammed (exact match; empty or whitespace means all). */
  accepts(source: string): boolean {
    return this.source === "" || this.source === source;
  }
  abstract add(tof: Ids, det: Ids | undefined): void;
  abstract view(): HistogramView;
  clear(): void {
    this.counts.fill(0);
  }
  /** Total counts, as numpy's data.sum(). */
  sum(): number {
    let s = 0;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) s += c[i];
    return s;
  }
  /** Counts in fill layout (for merging partial fills). */
  get raw(): Float64Array {
    return this.counts;
  }
}

const empty = new Int32Array(0);

export class Hist1d extends JbiHistogram {
  readonly tof: NumpyAxis;
  readonly det: NumpyAxis | undefined;
  constructor(spec: HistogramSpec) {
    const nb = spec.numBins;
    // np.histogram with a 2-list `bins` treats it as explicit edges: one closed bin [a, b]; with det_range
    // histogram2d reads it as (tof bins, det bins). just-bin-it.md §3.2 (a quirk, reproduced).
    let tof: NumpyAxis;
    let det: NumpyAxis | undefined;
    if (Array.isArray(nb)) {
      if (spec.detRange) {
        tof = numpyAxis(nb[0], spec.tofRange[0], spec.tofRange[1]);
        det = numpyAxis(nb[1], spec.detRange[0], spec.detRange[1]);
      } else tof = numpyAxis(1, nb[0], nb[1]);
    } else {
      tof = numpyAxis(nb, spec.tofRange[0], spec.tofRange[1]);
      if (spec.detRange) det = numpyAxis(nb, spec.detRange[0], spec.detRange[1]);
    }
    super(spec, tof.bins);
    this.tof = tof;
    this.det = det;
  }
  add(tof: Ids, det: Ids | undefined): void {
    if (this.det) fill1dFiltered(this.tof, this.det, tof, det ?? empty, this.counts);
    else fill1d(this.tof, tof, this.counts);
  }
  view(): HistogramView {
    return {
      shape: [this.tof.bins],
      edges: [this.tof.edges],
      data: this.counts,
      intData: this.det === undefined,
    };
  }
}

export class Hist2d extends JbiHistogram {
  readonly tof: NumpyAxis;
  readonly det: NumpyAxis;
  constructor(spec: HistogramSpec) {
    const [nx, ny] = Array.isArray(spec.numBins) ? spec.numBins : [spec.numBins, spec.numBins];
    const dr = spec.detRange ?? [0, 0];
    const tof = numpyAxis(nx, spec.tofRange[0], spec.tofRange[1]);
    const det = numpyAxis(ny, dr[0], dr[1]);
    super(spec, tof.bins * det.bins);
    this.tof = tof;
    this.det = det;
  }
  add(tof: Ids, det: Ids | undefined): void {
    fill2d(this.tof, this.det, tof, det ?? empty, this.counts);
  }
  view(): HistogramView {
    return {
      shape: [this.tof.bins, this.det.bins],
      edges: [this.tof.edges, this.det.edges],
      data: this.counts,
      intData: false,
    };
  }
}

function arange(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Detector image: pixel p = id - det_range[0] over width*height pixels, published as data[p % w][p // w]. */
export class DetHist extends JbiHistogram {
  readonly width: number;
  readonly height: number;
  readonly lo: number;
  readonly hi: number;
  private out: Float64Array;
  constructor(spec: HistogramSpec) {
    const w = spec.width;
    const h = spec.height;
    if (!Number.isInteger(w) || !Number.isInteger(h))
      throw new TypeError("'float' object cannot be interpreted as an integer");
    super(spec, w * h);
    this.width = w;
    this.height = h;
    const lo = (spec.detRange ?? [0, 0])[0];
    this.lo = lo;
    this.hi = lo + w * h;
    this.out = new Float64Array(w * h);
  }
  add(_tof: Ids, det: Ids | undefined): void {
    if (det) fillPixels(this.lo, this.hi, this.width * this.height, det, this.counts);
  }
  view(): HistogramView {
    const w = this.width;
    const h = this.height;
    const c = this.counts;
    const out = this.out;
    // Pixel p = y*w + x goes to out[x*h + y].
    for (let y = 0, p = 0; y < h; y++) for (let x = 0; x < w; x++, p++) out[x * h + y] = c[p];
    return { shape: [w, h], edges: [arange(w + 1), arange(h + 1)], data: out, intData: false };
  }
}

/** Region of interest: data[x][row] counts exactly the id left_edges[row] + x. */
export class RoiHist extends JbiHistogram {
  readonly width: number;
  readonly rows: number;
  private readonly first: number;
  /** id - first -> output cell, or -1. */
  private readonly lut: Int32Array;
  constructor(spec: HistogramSpec) {
    const w = spec.width;
    const left = spec.leftEdges;
    if (!Number.isInteger(w)) throw new TypeError("'float' object cannot be interpreted as an integer");
    const rows = left.length;
    super(spec, w * rows);
    // numpy requires the internal edge list to increase: rows strictly increasing and not overlapping.
    for (let r = 0; r < rows; r++) {
      if (!Number.isInteger(left[r])) throw new TypeError("left_edges must be integers");
      if (r > 0 && left[r] < left[r - 1] + w) throw new RangeError("`bins` must increase monotonically");
    }
    if (w < 1 || rows === 0) throw new RangeError("empty ROI");
    this.width = w;
    this.rows = rows;
    this.first = left[0];
    const span = left[rows - 1] + w - this.first;
    this.lut = new Int32Array(span).fill(-1);
    for (let r = 0; r < rows; r++)
      for (let x = 0; x < w; x++) this.lut[left[r] + x - this.first] = x * rows + r;
  }
  add(_tof: Ids, det: Ids | undefined): void {
    if (!det) return;
    const lut = this.lut;
    const span = lut.length;
    const first = this.first;
    const c = this.counts;
    for (let k = 0; k < det.length; k++) {
      const p = det[k] - first;
      if (p >= 0 && p < span) {
        const cell = lut[p];
        if (cell >= 0) c[cell]++;
      }
    }
  }
  view(): HistogramView {
    const xs = BigInt64Array.from({ length: this.width }, (_, i) => BigInt(i));
    const ys = BigInt64Array.from({ length: this.rows }, (_, i) => BigInt(i));
    return { shape: [this.width, this.rows], edges: [xs, ys], data: this.counts, intData: false };
  }
}

/** Builds a histogram from a validated spec; throws like just-bin-it's factory would ("Could not create histogram"). */
export function createHistogram(spec: HistogramSpec): JbiHistogram {
  switch (spec.type) {
    case "hist1d":
      return new Hist1d(spec);
    case "hist2d":
      return new Hist2d(spec);
    case "dethist":
      return new DetHist(spec);
    case "roihist":
      return new RoiHist(spec);
  }
}
