// just-bin-it's four histogram types (hist1d, hist2d, dethist, roihist) as engine histograms (just-bin-it.md §3):
// each counts in an engine `Histogram` whose axes bin exactly as just-bin-it's numpy / fast_histogram calls do,
// and `view()` lays the counts out as just-bin-it publishes them (shapes, edges, dtypes).
//  - hist1d: NumpyRegularAxis (np.histogram(range=, bins=)), int storage.
//  - hist1d + det_range: VariableAxis(linspace) x VariableAxis(linspace) without flow (np.histogram2d, which is
//    histogramdd: searchsorted side='right', the last edge moved into the last bin), projected onto ToF.
//  - hist2d: the same 2-D histogram, published whole.
//  - dethist: fast_histogram.histogram1d(ids, range=(first, first + w*h), bins=w*h) is half-open with
//    bin = int((id - first) * (w*h / (w*h))) = id - first for integer ids: IntegerAxis(first, first + w*h)
//    without flow; published in just-bin-it's (width, height) layout.
//  - roihist: np.histogram(ids, bins=edges) over the ROI edge list (masked gap bins): VariableAxis without flow.
import { Histogram, IntegerAxis, NumpyRegularAxis, project, VariableAxis } from "../engine/index.ts";
import { detImage, numpyEdges, roiBins } from "./binning.ts";
import type { HistogramSpec } from "./config-commands.ts";
import {
  bucketedIdKernel,
  type FillKernel,
  fillKernel,
  type IntAxis,
  integerAxis,
  type KernelPart,
  numpyAxis,
  variableAxis,
} from "./fill-kernels.ts";

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

const noFlow = { underflow: false, overflow: false };
const empty = new Int32Array(0);

export abstract class JbiHistogram {
  readonly id: string;
  readonly topic: string;
  /** "" means every source. */
  readonly source: string;
  readonly type: string;
  /** The engine histogram that counts. */
  readonly hist: Histogram;
  /** How a fused kernel fills it with other histograms of the same messages (fill-batch.ts); none for roihist. */
  part: KernelPart | undefined;
  protected constructor(spec: HistogramSpec, hist: Histogram) {
    this.id = spec.id;
    this.topic = spec.topic;
    this.source = spec.source.trim() === "" ? "" : spec.source;
    this.type = spec.type;
    this.hist = hist;
  }
  /** Whether events of this source are histogrammed (exact match; empty or whitespace means all). */
  accepts(source: string): boolean {
    return this.source === "" || this.source === source;
  }
  /** Fills one message's events into `into` (this histogram's own by default; a worker's partial copy otherwise). */
  abstract add(tof: Ids, det: Ids | undefined, into?: Histogram): void;
  /** Fills the events of several messages (a batch), as add() of each would. */
  addMany(tofs: readonly Ids[], dets: readonly (Ids | undefined)[], into: Histogram = this.hist): void {
    for (let m = 0; m < tofs.length; m++) this.add(tofs[m], dets[m], into);
  }
  abstract view(): HistogramView;
  clear(): void {
    this.hist.reset();
  }
  /** Total counts, as numpy's data.sum(). */
  sum(): number {
    let s = 0;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) s += c[i];
    return s;
  }
  /** The engine storage's counts (no flow bins exist on these axes). */
  get counts(): Float64Array {
    return this.hist.storage.fields[0];
  }
  /** An empty histogram with the same axes and storage, for partial fills. */
  emptyCopy(): Histogram {
    const h = this.hist.clone();
    h.reset();
    return h;
  }
}

/** ToF and detector columns of the same length (a detector array of another length is numpy's error: dropped). */
function pair(tof: Ids, det: Ids | undefined): [Ids, Ids] | undefined {
  const d = det ?? empty;
  if (d.length !== tof.length) return undefined;
  return [tof, d];
}

export class Hist1d extends JbiHistogram {
  readonly bins: number;
  readonly edges: Float64Array;
  readonly filtered: boolean;
  private readonly out: Float64Array;
  private readonly kernel: FillKernel;
  constructor(spec: HistogramSpec) {
    const nb = spec.numBins;
    // np.histogram with a 2-list `bins` treats it as explicit edges: one closed bin [a, b]; with det_range
    // histogram2d reads it as (tof bins, det bins). just-bin-it.md §3.2 (a quirk, reproduced).
    let hist: Histogram;
    let edges: Float64Array;
    let part: KernelPart;
    if (spec.detRange) {
      const [nx, ny] = Array.isArray(nb) ? nb : [nb, nb];
      edges = numpyEdges(nx, spec.tofRange[0], spec.tofRange[1]);
      const det = numpyEdges(ny, spec.detRange[0], spec.detRange[1]);
      hist = new Histogram([new VariableAxis(edges, noFlow), new VariableAxis(det, noFlow)], {
        storage: "double",
      });
      part = { inputs: "both", axes: [variableAxis(edges), variableAxis(det)] };
    } else {
      const [n, lo, hi] = Array.isArray(nb) ? [1, nb[0], nb[1]] : [nb, spec.tofRange[0], spec.tofRange[1]];
      edges = numpyEdges(n, lo, hi);
      const axis = new NumpyRegularAxis(n, lo, hi);
      hist = new Histogram([axis], { storage: "int" });
      part = { inputs: "tof", axes: [numpyAxis(n, axis.lower, axis.upper, axis.edges())] };
    }
    super(spec, hist);
    this.bins = edges.length - 1;
    this.edges = edges;
    this.filtered = spec.detRange !== undefined;
    this.out = new Float64Array(this.bins);
    this.part = part;
    this.kernel = fillKernel(part.inputs, part.axes);
  }
  add(tof: Ids, det: Ids | undefined, into: Histogram = this.hist): void {
    if (!this.filtered) {
      if (!this.kernel(tof, empty, into.storage.fields[0])) into.fill([tof]);
      return;
    }
    const p = pair(tof, det);
    if (p && !this.kernel(p[0], p[1], into.storage.fields[0])) into.fill(p);
  }
  view(): HistogramView {
    let data = this.counts;
    if (this.filtered) {
      // histogram2d(...).sum(axis=1): the projection onto ToF.
      data = this.out;
      data.set(project(this.hist, [0]).storage.fields[0]);
    }
    return { shape: [this.bins], edges: [this.edges], data, intData: !this.filtered };
  }
}

export class Hist2d extends JbiHistogram {
  readonly tof: Float64Array;
  readonly det: Float64Array;
  private readonly kernel: FillKernel;
  constructor(spec: HistogramSpec) {
    const [nx, ny] = Array.isArray(spec.numBins) ? spec.numBins : [spec.numBins, spec.numBins];
    const dr = spec.detRange ?? [0, 0];
    const tof = numpyEdges(nx, spec.tofRange[0], spec.tofRange[1]);
    const det = numpyEdges(ny, dr[0], dr[1]);
    super(
      spec,
      new Histogram([new VariableAxis(tof, noFlow), new VariableAxis(det, noFlow)], { storage: "double" }),
    );
    this.tof = tof;
    this.det = det;
    const axes: IntAxis[] = [variableAxis(tof), variableAxis(det)];
    this.part = { inputs: "both", axes };
    this.kernel = fillKernel("both", axes);
  }
  add(tof: Ids, det: Ids | undefined, into: Histogram = this.hist): void {
    const p = pair(tof, det);
    if (p && !this.kernel(p[0], p[1], into.storage.fields[0])) into.fill(p);
  }
  view(): HistogramView {
    return {
      shape: [this.tof.length - 1, this.det.length - 1],
      edges: [this.tof, this.det],
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

/** Images of more cells than this (8 bytes each) count a batch's ids sorted by bucket (see bucketedIdKernel). */
const BUCKETED_ABOVE = 1 << 17;

/** Detector image: pixel p = id - det_range[0] over width*height pixels, published as data[p % w][p // w]. */
export class DetHist extends JbiHistogram {
  readonly width: number;
  readonly height: number;
  private readonly out: Float64Array;
  private readonly kernel: FillKernel;
  /** For images larger than the caches: a batch's ids sorted by bucket before counting. */
  private readonly bucketed: ((cols: readonly Ids[], c: Float64Array) => boolean) | undefined;
  constructor(spec: HistogramSpec) {
    const w = spec.width;
    const h = spec.height;
    if (!Number.isInteger(w) || !Number.isInteger(h))
      throw new TypeError("'float' object cannot be interpreted as an integer");
    // det_range[1] is ignored and recomputed as first + w*h. For integer ids, `first <= id < first + w*h` and
    // int(id - first) are `ceil(first) <= id < ceil(first) + w*h` and id - ceil(first) (exact for integer first).
    const first = Math.ceil((spec.detRange ?? [0, 0])[0]);
    // ev42's uint32 ids from 2^31 are outside every image: the integer axis has 32-bit signed bounds.
    super(spec, new Histogram([new IntegerAxis(first, first + w * h, noFlow)], { storage: "double" }));
    this.width = w;
    this.height = h;
    this.out = new Float64Array(w * h);
    const axes = [integerAxis(first, w * h)];
    this.kernel = fillKernel("det", axes);
    this.bucketed = w * h > BUCKETED_ABOVE ? bucketedIdKernel(first, w * h) : undefined;
    // A large image is counted by itself, sorted by bucket (a fused loop would scatter it unsorted).
    this.part = this.bucketed ? undefined : { inputs: "det", axes };
  }
  add(_tof: Ids, det: Ids | undefined, into: Histogram = this.hist): void {
    if (det && !this.kernel(empty, det, into.storage.fields[0])) into.fill([det]);
  }
  override addMany(
    _tofs: readonly Ids[],
    dets: readonly (Ids | undefined)[],
    into: Histogram = this.hist,
  ): void {
    const cols: Ids[] = [];
    for (const d of dets) if (d) cols.push(d);
    if (!this.bucketed?.(cols, into.storage.fields[0])) super.addMany(_tofs, dets, into);
  }
  view(): HistogramView {
    const w = this.width;
    const h = this.height;
    return {
      shape: [w, h],
      edges: [arange(w + 1), arange(h + 1)],
      data: detImage(this.counts, w, h, this.out),
      intData: false,
    };
  }
}

/** Region of interest: data[x][row] counts exactly the id left_edges[row] + x. */
export class RoiHist extends JbiHistogram {
  readonly width: number;
  readonly rows: number;
  /** Engine bin -> published cell, or -1 for a masked bin. */
  private readonly cell: Int32Array;
  private readonly out: Float64Array;
  constructor(spec: HistogramSpec) {
    const w = spec.width;
    const left = spec.leftEdges;
    if (!Number.isInteger(w)) throw new TypeError("'float' object cannot be interpreted as an integer");
    const rows = left.length;
    if (w < 1 || rows === 0) throw new RangeError("empty ROI");
    // numpy requires the internal edge list to increase: rows strictly increasing and not overlapping.
    for (let r = 0; r < rows; r++) {
      if (!Number.isInteger(left[r])) throw new TypeError("left_edges must be integers");
      if (r > 0 && left[r] < left[r - 1] + w) throw new RangeError("`bins` must increase monotonically");
    }
    const { edges, cell } = roiBins(left, w);
    super(spec, new Histogram([new VariableAxis(edges, noFlow)], { storage: "int" }));
    this.width = w;
    this.rows = rows;
    this.cell = cell;
    this.out = new Float64Array(w * rows);
  }
  add(_tof: Ids, det: Ids | undefined, into: Histogram = this.hist): void {
    if (det) into.fill([det]);
  }
  view(): HistogramView {
    const c = this.counts;
    const out = this.out;
    const cell = this.cell;
    for (let b = 0; b < cell.length; b++) if (cell[b] >= 0) out[cell[b]] = c[b];
    const xs = BigInt64Array.from({ length: this.width }, (_, i) => BigInt(i));
    const ys = BigInt64Array.from({ length: this.rows }, (_, i) => BigInt(i));
    return { shape: [this.width, this.rows], edges: [xs, ys], data: out, intData: false };
  }
  /** The published counts sum (masked bins excluded). */
  override sum(): number {
    const c = this.counts;
    const cell = this.cell;
    let s = 0;
    for (let b = 0; b < cell.length; b++) if (cell[b] >= 0) s += c[b];
    return s;
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
