// Fill kernels for histograms without growing axes into int, double or weighted storage. Each kernel is one
// loop, generated for its exact configuration with the axes' constants written in as literals: V8 then keeps
// few values live and reads each input array as its own typed-array type; measured 1.7x faster than the same
// loop taking the constants as parameters. The index arithmetic is the axes' positions() (boost's), verbatim;
// the interop tests run both paths against boost-histogram.

import type { Axis } from "./axes/axis.ts";
import { DROP } from "./axes/axis.ts";
import { IntegerAxis } from "./axes/integer.ts";
import { NumpyRegularAxis } from "./axes/numpy-regular.ts";
import { RegularAxis } from "./axes/regular.ts";
import { VariableAxis } from "./axes/variable.ts";
import type { Column } from "./columns.ts";
import { CHUNK, cStrides, type FillPlan } from "./fill-plan.ts";
import type { Storage } from "./storage.ts";

/** Source truncating `expr` (known to lie in [0, max] or be NaN-free in range) toward zero. */
function trunc(expr: string, max: number): string {
  return max < 2 ** 30 ? `((${expr}) | 0)` : `Math.trunc(${expr})`;
}

/** A number as a JS literal that parses back to the same double. */
function lit(x: number): string {
  if (Object.is(x, -0)) return "(-0)";
  return `(${String(x)})`;
}

/** How a kernel reads one axis' column: binned inline from raw values, or positions computed per chunk. */
type InlineKind = "regular" | "integer" | "variable" | "numpy";
type Input = { kind: InlineKind; axis: Axis; raw: ArrayLike<number> } | { kind: "pos"; axis: Axis };

function inlineKind(a: Axis): InlineKind | undefined {
  if (a instanceof RegularAxis && !a.transform && !a.circular) return "regular";
  if (a instanceof IntegerAxis && !a.circular) return "integer";
  if (a instanceof VariableAxis && !a.circular) return "variable";
  if (a instanceof NumpyRegularAxis) return "numpy";
  return undefined;
}

/** Edges of the inline axes, per axis: only growing axes change their edges, and those never fill inline. */
const edgeCache = new WeakMap<Axis, Float64Array>();
const scaleCache = new WeakMap<Float64Array, number | undefined>();

function inlineEdges(a: Axis): Float64Array {
  let e = edgeCache.get(a);
  if (!e) {
    e = (a as VariableAxis | NumpyRegularAxis).edges();
    edgeCache.set(a, e);
  }
  return e;
}

/** bins / (e[n] - e[0]) when every edge's arithmetic guess is within one bin of its index, so a guess corrected
 * by a short walk finds the bin faster than a binary search (linspace edges); undefined for other edges. */
function uniformScale(e: Float64Array): number | undefined {
  const n = e.length - 1;
  if (scaleCache.has(e)) return scaleCache.get(e);
  const s = computeScale(e, n);
  scaleCache.set(e, s);
  return s;
}

function computeScale(e: Float64Array, n: number): number | undefined {
  if (n < 8) return undefined;
  const s = n / (e[n] - e[0]);
  if (!Number.isFinite(s) || s <= 0) return undefined;
  for (let i = 0; i <= n; i++) {
    const g = Math.trunc((e[i] - e[0]) * s);
    if (!(Math.abs(g - i) <= 1)) return undefined;
  }
  return s;
}

/** Source of position p<k> for entry i, with `continue` when the entry has no cell on this axis. */
function axisCode(inp: Input, k: number): string {
  const a = inp.axis;
  const uf = a.underflow ? 1 : 0;
  const under = a.underflow ? 0 : DROP;
  const over = a.overflow ? a.size + uf : DROP;
  const drops = under === DROP || over === DROP;
  const skip = drops ? `if (p${k} < 0) continue;` : "";
  if (inp.kind === "pos") return `const p${k} = q${k}[i - s]; if (p${k} < 0) continue;`;
  if (inp.kind === "regular") {
    const r = a as RegularAxis;
    const top = a.overflow ? over : a.size - 1 + uf;
    return `let p${k} = ${over};
      { const z = (x${k}[i] - ${lit(r.min)}) / ${lit(r.delta)};
        if (z < 1) { if (z >= 0) { const b = (z * ${a.size}) | 0; p${k} = b < ${a.size} ? b + ${uf} : ${over}; } else p${k} = ${under}; }
        else if (z === 1) p${k} = ${top}; }
      ${skip}`;
  }
  if (inp.kind === "integer") {
    const m = (a as IntegerAxis).min;
    return `const z${k} = x${k}[i] - ${lit(m)};
      const p${k} = z${k} < ${a.size} ? (z${k} >= 0 ? (z${k} + ${uf}) | 0 : ${under}) : ${over};
      ${skip}`;
  }
  if (inp.kind === "numpy") {
    // NumpyRegularAxis.index, verbatim: numpy's guess from (x - lower) / (upper - lower) * bins, corrected by one.
    // In range the guess is in [0, bins], so `| 0` truncates it exactly (and 3x faster than Math.trunc).
    const r = a as NumpyRegularAxis;
    const n = a.size;
    return `let p${k} = -1;
      { const v = x${k}[i];
        if (v >= ${lit(r.lower)} && v <= ${lit(r.upper)}) {
          let b = ${trunc(`((v - ${lit(r.lower)}) / ${lit(r.upper - r.lower)}) * ${n}`, n)};
          if (b === ${n}) b--;
          if (v < e${k}[b]) b--;
          if (v >= e${k}[b + 1] && b !== ${n - 1}) b++;
          p${k} = b; } }
      if (p${k} < 0) continue;`;
  }
  const n = a.size;
  const top = a.overflow ? over : n - 1 + uf;
  const edges = inlineEdges(a);
  const scale = uniformScale(edges);
  if (scale !== undefined) {
    // Exact for any increasing edges: the walk stops at the bin with e[b] <= v < e[b + 1]. The end edges are
    // literals: V8 must reload typed-array elements after every count stored (the arrays could alias).
    const lo = lit(edges[0]);
    const hi = lit(edges[n]);
    return `let p${k} = ${over};
    { const v = x${k}[i];
      if (v >= ${lo}) {
        if (v < ${hi}) { let b = ((v - ${lo}) * ${lit(scale)}) | 0; if (b > ${n - 1}) b = ${n - 1};
          while (v < e${k}[b]) b--; while (v >= e${k}[b + 1]) b++; p${k} = b + ${uf}; }
        else if (v === ${hi}) p${k} = ${top};
      } else if (v < ${lo}) p${k} = ${under}; }
    ${skip}`;
  }
  return `let p${k} = ${over};
    { const v = x${k}[i];
      if (v >= e${k}[0]) {
        if (v < e${k}[${n}]) { let lo = 0, hi = ${n}; while (hi - lo > 1) { const mid = (lo + hi) >>> 1; if (e${k}[mid] <= v) lo = mid; else hi = mid; } p${k} = lo + ${uf}; }
        else if (v === e${k}[${n}]) p${k} = ${top};
      } else if (v < e${k}[0]) p${k} = ${under}; }
    ${skip}`;
}

type Weighting = "none" | "array" | "scalar";

function storageCode(type: Storage["type"], w: Weighting): string {
  const wi = w === "array" ? "w[i - wo]" : "w";
  if (type === "weighted")
    return w === "none" ? "c0[j]++; c1[j]++;" : `const wi = ${wi}; c0[j] += wi; c1[j] += wi * wi;`;
  if (w === "none") return "c0[j]++;";
  // C++ int64 += double: the sum is formed in double, then truncated.
  return type === "int" ? `c0[j] = Math.trunc(c0[j] + ${wi});` : `c0[j] += ${wi};`;
}

type Kernel = (
  s: number,
  e: number,
  cols: unknown[],
  c0: Float64Array,
  c1: Float64Array | undefined,
  w: unknown,
  wo: number,
) => void;
const kernels = new Map<string, Kernel>();

/** Above this many cells the storage no longer fits in L2: then a kernel writes the chunk's cell numbers first
 * and a second, tiny loop scatters them, which keeps more cache misses in flight (measured 2x on 1M cells). */
const SCATTER_SEPARATELY_ABOVE = 1 << 17;

function buildKernel(
  inputs: Input[],
  strides: number[],
  offset: number,
  type: Storage["type"],
  w: Weighting,
  cells: number,
): Kernel {
  const twoPass = cells > SCATTER_SEPARATELY_ABOVE;
  const drop = twoPass ? "{ o[i - s] = -1; continue; }" : "continue;";
  const parts = inputs.map((inp, k) => axisCode(inp, k).replaceAll("continue;", drop));
  const j = inputs.map((_, k) => `p${k} * ${strides[k]}`).join(" + ") + (offset ? ` + ${offset}` : "");
  const unpack = unpackCode(inputs);
  const body = twoPass
    ? `const o = indexBuffer;
      for (let i = s; i < e; i++) { ${parts.join("\n")} o[i - s] = ${j}; }
      for (let i = s; i < e; i++) { const j = o[i - s]; if (j < 0) continue; ${storageCode(type, w)} }`
    : `for (let i = s; i < e; i++) { ${parts.join("\n")} const j = ${j}; ${storageCode(type, w)} }`;
  const src = `${unpack}\n${body}`;
  let k = kernels.get(src);
  if (!k) {
    // The source holds only numeric literals and fixed identifiers (see axisCode), never user text.
    const make = new Function("indexBuffer", `return function kernel(s, e, cols, c0, c1, w, wo) { ${src} };`);
    k = make(new Int32Array(CHUNK)) as Kernel;
    kernels.set(src, k);
  }
  return k;
}

/** A kernel of the partitioned mode: bins entries [s, e) and appends, from index k on, the cell number minus `lo`
 * of each entry whose cell lies in [lo, lo + span) to `o` (and its weight to `wv`); returns the next k. The caller
 * leaves room for e - s more: every entry is written, and k only moves past the ones in range, with no branch
 * (a region split drops about half of them at random, which a branch would mispredict). */
type BinKernel = (
  s: number,
  e: number,
  cols: unknown[],
  o: Int32Array,
  wv: Float64Array,
  w: unknown,
  wo: number,
  k: number,
  lo: number,
  span: number,
) => number;
const binKernels = new Map<string, BinKernel>();

function buildBinKernel(inputs: Input[], strides: number[], offset: number, w: Weighting): BinKernel {
  const parts = inputs.map((inp, k) => axisCode(inp, k));
  const j = inputs.map((_, k) => `p${k} * ${strides[k]}`).join(" + ") + (offset ? ` + ${offset}` : "");
  const wi = w === "array" ? "wv[k] = w[i - wo];" : w === "scalar" ? "wv[k] = w;" : "";
  // In range exactly when 0 <= j < span: then j and j - span differ in sign, and the xor's sign bit is 1.
  const src = `${unpackCode(inputs)}
    for (let i = s; i < e; i++) { ${parts.join("\n")} const j = (${j} - lo) | 0; o[k] = j; ${wi} k = (k + ((j ^ (j - span)) >>> 31)) | 0; }
    return k;`;
  let k = binKernels.get(src);
  if (!k) {
    // The source holds only numeric literals and fixed identifiers (see axisCode), never user text.
    // k, lo and span are copied into int32 locals: V8 then keeps them untagged in the loop (measured 13%).
    k = new Function(
      "s",
      "e",
      "cols",
      "o",
      "wv",
      "w",
      "wo",
      "k0",
      "lo0",
      "span0",
      `let k = k0 | 0; const lo = lo0 | 0, span = span0 | 0;\n${src}`,
    ) as BinKernel;
    binKernels.set(src, k);
  }
  return k;
}

function unpackCode(inputs: Input[]): string {
  return inputs
    .map((inp, k) =>
      inp.kind === "pos"
        ? `const q${k} = cols[${k}];`
        : inp.kind === "variable" || inp.kind === "numpy"
          ? `const x${k} = cols[${k}][0], e${k} = cols[${k}][1];`
          : `const x${k} = cols[${k}];`,
    )
    .join("\n");
}

/** Partitioned mode: entries are binned into a block of up to BLOCK cell numbers, which are then sorted by region
 * of the storage (a stable counting sort, so each cell still receives its entries in input order: weighted sums
 * stay bit-identical) and scattered region by region. A region is REGION_BYTES of storage, so while its entries
 * are scattered it stays in L2 instead of L3; each region gets BLOCK / regions entries per pass, many more than it
 * has cache lines once BLOCK is 2^20 and the storage ~1M cells. */
const BLOCK = 1 << 20;
const REGION_BYTES = 1 << 19;
/** At most this many regions: more would spread the sort's writes over too many streams. */
const MAX_REGIONS = 1 << 12;
/** Fills with at least this many entries into storages above SCATTER_SEPARATELY_ABOVE cells use partitioned mode:
 * smaller ones give each region too few entries to pay for the sort (and would allocate the block for nothing). */
const PARTITION_MIN_ENTRIES = 1 << 18;

/** The block's buffers, allocated on first use (per thread: 8 MB, 24 MB with weights) and kept for later fills. */
const block = {
  o: new Int32Array(0),
  sorted: new Int32Array(0),
  wv: new Float64Array(0),
  wSorted: new Float64Array(0),
  count: new Int32Array(MAX_REGIONS + 1),
};

function blockBuffers(weighted: boolean): void {
  if (block.o.length < BLOCK) {
    block.o = new Int32Array(BLOCK);
    block.sorted = new Int32Array(BLOCK);
  }
  if (weighted && block.wv.length < BLOCK) {
    block.wv = new Float64Array(BLOCK);
    block.wSorted = new Float64Array(BLOCK);
  }
}

/** log2 of the cells per region, for a region of `span` cells of `fields` fields. */
function regionShift(span: number, fields: number): number {
  let sh = Math.log2(REGION_BYTES / (8 * fields)) | 0;
  while (span > MAX_REGIONS * 2 ** sh) sh++;
  return sh;
}

/** Scatters the first n block entries into c0 (and c1), relative cell numbers. */
function flushBlock(
  n: number,
  span: number,
  sh: number,
  type: Storage["type"],
  w: Weighting,
  c0: Float64Array,
  c1: Float64Array | undefined,
): void {
  if (n === 0) return;
  let o = block.o;
  let wv = block.wv;
  if (span > 2 ** sh) {
    const regions = Math.ceil(span / 2 ** sh);
    const count = block.count;
    count.fill(0, 0, regions + 1);
    for (let i = 0; i < n; i++) count[(o[i] >>> sh) + 1]++;
    for (let r = 0; r < regions; r++) count[r + 1] += count[r];
    if (w === "none") sortByRegion(o, block.sorted, count, n, sh);
    else {
      sortByRegionWeighted(o, wv, block.sorted, block.wSorted, count, n, sh);
      wv = block.wSorted;
    }
    o = block.sorted;
  }
  if (w === "none") {
    if (type === "weighted") scatterCount2(o, n, c0, c1!);
    else scatterCount(o, n, c0);
  } else if (type === "weighted") scatterWeight2(o, wv, n, c0, c1!);
  else if (type === "int") scatterIntWeight(o, wv, n, c0);
  else scatterWeight(o, wv, n, c0);
}

// One small function per storage and weighting, so that each loop stays monomorphic and short.
function sortByRegion(o: Int32Array, out: Int32Array, at: Int32Array, n: number, sh: number): void {
  for (let i = 0; i < n; i++) {
    const j = o[i];
    out[at[j >>> sh]++] = j;
  }
}

function sortByRegionWeighted(
  o: Int32Array,
  wv: Float64Array,
  out: Int32Array,
  wOut: Float64Array,
  at: Int32Array,
  n: number,
  sh: number,
): void {
  for (let i = 0; i < n; i++) {
    const j = o[i];
    const d = at[j >>> sh]++;
    out[d] = j;
    wOut[d] = wv[i];
  }
}

function scatterCount(o: Int32Array, n: number, c0: Float64Array): void {
  for (let i = 0; i < n; i++) c0[o[i]]++;
}

function scatterCount2(o: Int32Array, n: number, c0: Float64Array, c1: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const j = o[i];
    c0[j]++;
    c1[j]++;
  }
}

function scatterWeight(o: Int32Array, wv: Float64Array, n: number, c0: Float64Array): void {
  for (let i = 0; i < n; i++) c0[o[i]] += wv[i];
}

function scatterIntWeight(o: Int32Array, wv: Float64Array, n: number, c0: Float64Array): void {
  // C++ int64 += double: the sum is formed in double, then truncated.
  for (let i = 0; i < n; i++) {
    const j = o[i];
    c0[j] = Math.trunc(c0[j] + wv[i]);
  }
}

function scatterWeight2(
  o: Int32Array,
  wv: Float64Array,
  n: number,
  c0: Float64Array,
  c1: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    const j = o[i];
    const wi = wv[i];
    c0[j] += wi;
    c1[j] += wi * wi;
  }
}

/** Raw values an inline kernel can index directly: typed arrays of numbers (not 64-bit integers). */
function rawNumbers(v: unknown): ArrayLike<number> | undefined {
  if (
    !ArrayBuffer.isView(v) ||
    v instanceof BigInt64Array ||
    v instanceof BigUint64Array ||
    v instanceof DataView
  )
    return undefined;
  return v as unknown as ArrayLike<number>;
}

const posBuffers: Int32Array[] = [];
const valBuffers: Float64Array[] = [];

/** Fills through a generated kernel if the plan qualifies (no growth, no sample); returns false otherwise. */
export function fastFill(plan: FillPlan, storage: Storage): boolean {
  return fastFillCells(plan, storage.type, storage.fields, storage.cells, 0, storage.cells);
}

/** Whether fastFill takes a plan for these axes and storage (fastFillCells needs it). */
export function fastFillable(axes: readonly Axis[], type: Storage["type"], sample: boolean): boolean {
  return (
    !sample && type !== "mean" && type !== "weighted_mean" && axes.length > 0 && !axes.some((a) => a.growth)
  );
}

/** Fills only the cells [lo, hi) of a storage of `cells` cells into `fields`, which hold just those cells
 * (fields[f][j - lo]); entries in other cells are skipped. Returns false if the plan does not qualify. */
export function fastFillCells(
  plan: FillPlan,
  type: Storage["type"],
  fields: Float64Array[],
  cells: number,
  lo: number,
  hi: number,
): boolean {
  if (!fastFillable(plan.axes, type, plan.sample !== undefined)) return false;
  const k = prepare(plan);
  if (!k) return true;
  const { length } = plan;
  const [c0, c1] = fields;
  const partitioned =
    lo > 0 || hi < cells || (cells > SCATTER_SEPARATELY_ABOVE && length >= PARTITION_MIN_ENTRIES);
  if (!partitioned) {
    const kernel = buildKernel(k.inputs, k.strides, k.offset, type, k.weighting, cells);
    for (let start = 0; start < length; start += CHUNK) {
      const n = Math.min(CHUNK, length - start);
      const cols = k.chunkCols(start, n);
      // Weights that are not a plain typed array are converted per chunk and read at i - start.
      if (k.weighting === "array" && !k.wArray)
        kernel(start, start + n, cols, c0, c1, plan.weight!.floats(start, n, weightScratch), start);
      else kernel(start, start + n, cols, c0, c1, k.wArray ?? k.weightRaw, 0);
    }
    return true;
  }
  blockBuffers(k.weighting !== "none");
  const span = hi - lo;
  const sh = regionShift(span, fields.length);
  let n = 0;
  for (let start = 0; start < length; start += CHUNK) {
    const m = Math.min(CHUNK, length - start);
    if (n + m > BLOCK) {
      flushBlock(n, span, sh, type, k.weighting, c0, c1);
      n = 0;
    }
    n = k.bin(start, m, n, lo, span);
  }
  flushBlock(n, span, sh, type, k.weighting, c0, c1);
  return true;
}

/** The cells (in [0, cells)) of up to SAMPLE entries taken in slices across the events, for splitting the cells
 * between threads; empty if the plan does not qualify. */
export function sampleCells(plan: FillPlan, type: Storage["type"], cells: number): Int32Array {
  const k = fastFillable(plan.axes, type, plan.sample !== undefined) ? prepare(plan) : undefined;
  if (!k) return new Int32Array(0);
  blockBuffers(k.weighting !== "none");
  const slices = 8;
  const each = Math.min(SAMPLE / slices, Math.ceil(plan.length / slices));
  let n = 0;
  for (let t = 0; t < slices; t++) {
    const start = Math.floor((plan.length * t) / slices);
    const m = Math.min(each, plan.length - start);
    if (m > 0) n = k.bin(start, m, n, 0, cells);
  }
  return block.o.slice(0, n);
}

const SAMPLE = 1 << 13;

interface Prepared {
  inputs: Input[];
  strides: number[];
  offset: number;
  weighting: Weighting;
  weightRaw: number | undefined;
  wArray: ArrayLike<number> | undefined;
  chunkCols: (start: number, n: number) => unknown[];
  /** Bins entries [start, start + n) (within one chunk) into the block from index k; returns the next k. */
  bin: (start: number, n: number, k: number, lo: number, span: number) => number;
}

/** The kernel inputs for a qualifying plan; undefined if a broadcast scalar has no cell (nothing to fill). */
function prepare(plan: FillPlan): Prepared | undefined {
  const { axes, columns } = plan;
  const raws = plan.raw;
  const strides = cStrides(axes.map((a) => a.extent));
  // Broadcast scalars are binned once; if one has no cell, no entry has one.
  let offset = 0;
  const one = new Int32Array(1);
  const inputs: Input[] = [];
  const inputStrides: number[] = [];
  const inputAxes: number[] = [];
  for (let k = 0; k < axes.length; k++) {
    const a = axes[k];
    if (columns[k].length === undefined) {
      a.positions(
        a.valueKind === "str" ? columns[k].strings(0, 1) : columns[k].floats(0, 1, new Float64Array(1)),
        1,
        one,
      );
      if (one[0] === DROP) return undefined;
      offset += one[0] * strides[k];
      continue;
    }
    const kind = inlineKind(a);
    const raw = kind && a.valueKind !== "str" ? rawNumbers(raws[k]) : undefined;
    inputs.push(kind && raw ? { kind, axis: a, raw } : { kind: "pos", axis: a });
    inputStrides.push(strides[k]);
    inputAxes.push(k);
  }
  if (inputs.length === 0) {
    // Every axis value is a scalar: `length` entries (from the weight) all go to one cell.
    inputs.push({ kind: "pos", axis: axes[0] });
    inputStrides.push(0);
    inputAxes.push(-1);
  }
  const weightRaw =
    plan.weight && plan.weight.length === undefined
      ? plan.weight.floats(0, 1, new Float64Array(1))[0]
      : undefined;
  const weighting: Weighting = !plan.weight ? "none" : weightRaw !== undefined ? "scalar" : "array";
  const wArray = weighting === "array" ? rawNumbers(raws[axes.length]) : undefined;
  const fixed = inputs.map((inp) =>
    inp.kind === "variable" || inp.kind === "numpy"
      ? [inp.raw, inlineEdges(inp.axis)]
      : inp.kind === "pos"
        ? undefined
        : inp.raw,
  );
  const chunkCols = (start: number, n: number) =>
    inputs.map(
      (inp, t) =>
        fixed[t] ??
        chunkPositions(inp.axis, inputAxes[t] < 0 ? undefined : columns[inputAxes[t]], t, start, n),
    );
  let binKernel: BinKernel | undefined;
  const bin = (start: number, n: number, k: number, lo: number, span: number): number => {
    binKernel ??= buildBinKernel(inputs, inputStrides, offset, weighting);
    const cols = chunkCols(start, n);
    if (weighting === "array" && !wArray) {
      const w = plan.weight!.floats(start, n, weightScratch);
      return binKernel(start, start + n, cols, block.o, block.wv, w, start, k, lo, span);
    }
    return binKernel(start, start + n, cols, block.o, block.wv, wArray ?? weightRaw, 0, k, lo, span);
  };
  return { inputs, strides: inputStrides, offset, weighting, weightRaw, wArray, chunkCols, bin };
}

/** Positions of one chunk, for the axes a kernel does not bin inline (categories, booleans, transforms, ...). */
function chunkPositions(a: Axis, col: Column | undefined, t: number, start: number, n: number): Int32Array {
  posBuffers[t] ??= new Int32Array(CHUNK);
  const out = posBuffers[t];
  if (!col) out.fill(0, 0, n);
  else {
    valBuffers[t] ??= new Float64Array(CHUNK);
    a.positions(a.valueKind === "str" ? col.strings(start, n) : col.floats(start, n, valBuffers[t]), n, out);
  }
  return out;
}

const weightScratch = new Float64Array(CHUNK);
