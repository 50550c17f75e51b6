// Whole-histogram operations with boost-histogram's rules: add (merge), project, slice/rebin/pick, sums and the
// PlottableHistogram views (values / variances / counts).
import type { Axis } from "./axes/axis.ts";
import { BooleanAxis } from "./axes/boolean.ts";
import { IntCategoryAxis, StrCategoryAxis } from "./axes/category.ts";
import { IntegerAxis } from "./axes/integer.ts";
import { NumpyRegularAxis } from "./axes/numpy-regular.ts";
import { RegularAxis } from "./axes/regular.ts";
import { VariableAxis } from "./axes/variable.ts";
import { InvalidArgumentError } from "./errors.ts";
import { checkCells, Histogram } from "./histogram.ts";
import { forEachCell, Storage } from "./storage.ts";
import type { Metadata } from "./uhi-types.ts";

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is(a[k], b[k]));
}

export function axesEqual(a: Axis, b: Axis): boolean {
  return a.sameBinning(b) && sameMetadata(a.metadata, b.metadata);
}

/** a += b. Same storage type and equal axes (metadata included); growing category and Integer axes are merged
 * by union (lhs categories first), as boost does. Nothing changes if it throws. */
export function addInto(a: Histogram, b: Histogram): void {
  if (a.storageType !== b.storageType)
    throw new InvalidArgumentError(`cannot add a ${b.storageType} histogram to a ${a.storageType} histogram`);
  if (a.rank !== b.rank)
    throw new InvalidArgumentError(`cannot add histograms of rank ${a.rank} and ${b.rank}`);
  if (a.axes.every((x, k) => axesEqual(x, b.axes[k]))) {
    const n = a.cells;
    if (a.storageType === "int" || a.storageType === "double" || a.storageType === "weighted") {
      a.storage.fields.forEach((f, i) => {
        const g = b.storage.fields[i];
        for (let j = 0; j < n; j++) f[j] += g[j];
      });
    } else for (let j = 0; j < n; j++) a.storage.addCell(j, b.storage, j);
  } else {
    const merged = a.axes.map((x, k) => unionAxis(x, b.axes[k]));
    const ext = merged.map((m) => m.axis.extent);
    checkCells(
      ext.reduce((p, e) => p * e, 1),
      a.storageType,
      a.limits,
    );
    const out = new Storage(
      a.storageType,
      ext.reduce((p, e) => p * e, 1),
    );
    scatter(
      a.storage,
      a.extents,
      merged.map((m) => m.mapA),
      out,
      ext,
    );
    scatter(
      b.storage,
      b.extents,
      merged.map((m) => m.mapB),
      out,
      ext,
    );
    a.axes = merged.map((m) => m.axis);
    a.storage = out;
  }
  a.varianceKnown &&= b.varianceKnown;
}

interface Union {
  axis: Axis;
  mapA: Int32Array;
  mapB: Int32Array;
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function unionAxis(x: Axis, y: Axis): Union {
  if (axesEqual(x, y)) return { axis: x.clone(), mapA: identity(x.extent), mapB: identity(y.extent) };
  const growingDiscrete =
    x.growth &&
    sameMetadata(x.metadata, y.metadata) &&
    ((x instanceof StrCategoryAxis && y instanceof StrCategoryAxis) ||
      (x instanceof IntCategoryAxis && y instanceof IntCategoryAxis) ||
      (x instanceof IntegerAxis && y instanceof IntegerAxis && y.growth));
  if (!growingDiscrete) throw new InvalidArgumentError(`axes not mergable: ${x.repr()} and ${y.repr()}`);
  if (x instanceof IntegerAxis && y instanceof IntegerAxis) {
    const lo = Math.min(x.min, y.min);
    const hi = Math.max(x.min + x.size, y.min + y.size);
    const axis = new IntegerAxis(lo, hi, { growth: true, metadata: x.metadata });
    return {
      axis,
      mapA: Int32Array.from({ length: x.extent }, (_, p) => p + x.min - lo),
      mapB: Int32Array.from({ length: y.extent }, (_, p) => p + y.min - lo),
    };
  }
  const cx = (x as StrCategoryAxis).categories as readonly (string | number)[];
  const cy = (y as StrCategoryAxis).categories as readonly (string | number)[];
  const all = [...cx, ...cy.filter((c) => !cx.includes(c))];
  const axis =
    x instanceof StrCategoryAxis
      ? new StrCategoryAxis(all as string[], { growth: true, metadata: x.metadata })
      : new IntCategoryAxis(all as number[], { growth: true, metadata: x.metadata });
  return { axis, mapA: identity(cx.length), mapB: Int32Array.from(cy, (c) => all.indexOf(c)) };
}

/** Adds every cell of `src` to `dst` at the positions given by per-axis maps (-1 drops the cell). */
function scatter(src: Storage, srcExt: number[], maps: Int32Array[], dst: Storage, dstExt: number[]): void {
  forEachCell(srcExt, (flat, pos) => {
    let d = 0;
    for (let k = 0; k < pos.length; k++) {
      const p = maps[k][pos[k]];
      if (p < 0) return;
      d = d * dstExt[k] + p;
    }
    dst.addCell(d, src, flat);
  });
}

/** What to do with one axis when reducing a histogram (UHI indexing). Bin numbers exclude flow: -1 is the
 * underflow bin and `size` the overflow bin. */
export type AxisAction =
  | { kind: "keep" }
  /** h[start:stop:rebin(merge)]: counts outside the range go to the flow bins if the axis has them (shrink). */
  | { kind: "slice"; start?: number; stop?: number; merge?: number; crop?: boolean }
  /** h[{ax: sum}] or h[start:stop:sum]: removes the axis, summing its bins (flow too, unless flow is false). */
  | { kind: "sum"; flow?: boolean; start?: number; stop?: number }
  /** h[i]: removes the axis, keeping the contents of bin i. */
  | { kind: "pick"; bin: number };

/** The general reduction behind project, slice, rebin and pick. */
export function reduce(h: Histogram, actions: readonly AxisAction[]): Histogram {
  if (actions.length !== h.rank) throw new InvalidArgumentError(`need one action per axis (${h.rank})`);
  const newAxes: Axis[] = [];
  const maps: Int32Array[] = [];
  const kept: boolean[] = [];
  h.axes.forEach((a, k) => {
    const act = actions[k];
    const uf = a.underflow ? 1 : 0;
    const map = new Int32Array(a.extent).fill(-1);
    if (act.kind === "keep") {
      newAxes.push(a.clone());
      map.set(identity(a.extent));
    } else if (act.kind === "pick") {
      const p = act.bin + uf;
      if (!Number.isInteger(act.bin) || p < 0 || p >= a.extent)
        throw new InvalidArgumentError(`bin ${act.bin} is out of range for ${a.repr()}`);
      map[p] = 0;
    } else if (act.kind === "sum") {
      const [start, stop] = range(a, act.start, act.stop);
      const ranged = act.start !== undefined || act.stop !== undefined;
      for (let p = 0; p < a.extent; p++) {
        const bin = p - uf;
        const inRange = bin >= start && bin < stop;
        const isFlow = bin < 0 || bin >= a.size;
        if (ranged ? inRange : act.flow === false ? !isFlow : true) map[p] = 0;
      }
    } else {
      const { axis, map: m } = sliceAxis(a, act);
      newAxes.push(axis);
      map.set(m);
    }
    maps.push(map);
    kept.push(act.kind === "keep" || act.kind === "slice");
  });
  const out = new Histogram(newAxes, { storage: h.storageType, metadata: h.metadata, limits: h.limits });
  out.varianceKnown = h.varianceKnown;
  const dstExt = newAxes.map((a) => a.extent);
  const keptMaps: Int32Array[] = [];
  const dropMaps: Int32Array[] = [];
  maps.forEach((m, k) => {
    (kept[k] ? keptMaps : dropMaps).push(m);
  });
  forEachCell(h.extents, (flat, pos) => {
    let d = 0;
    let j = 0;
    for (let k = 0; k < pos.length; k++) {
      const p = maps[k][pos[k]];
      if (p < 0) return;
      if (kept[k]) d = d * dstExt[j++] + p;
    }
    out.storage.addCell(d, h.storage, flat);
  });
  return out;
}

function range(a: Axis, start: number | undefined, stop: number | undefined): [number, number] {
  const s = Math.max(0, start ?? 0);
  const e = Math.min(a.size, stop ?? a.size);
  if (!(e > s)) throw new InvalidArgumentError(`empty slice [${start}:${stop}] of ${a.repr()}`);
  return [s, e];
}

function sliceAxis(a: Axis, act: Extract<AxisAction, { kind: "slice" }>): { axis: Axis; map: Int32Array } {
  const merge = act.merge ?? 1;
  if (!Number.isInteger(merge) || merge < 1)
    throw new InvalidArgumentError(`rebin factor must be >= 1, got ${merge}`);
  const [start, stop0] = range(a, act.start, act.stop);
  const stop = start + Math.floor((stop0 - start) / merge) * merge;
  if (stop === start) throw new InvalidArgumentError(`rebin(${merge}) leaves no bins in [${start}:${stop0}]`);
  if (a.circular && (start !== 0 || stop !== a.size))
    throw new InvalidArgumentError("cannot shrink circular axis");
  const bins = (stop - start) / merge;
  let axis: Axis;
  if (a instanceof RegularAxis && !a.growth) {
    axis = new RegularAxis(bins, a.value(start), a.value(stop), {
      underflow: a.underflow,
      overflow: a.overflow,
      circular: a.circular,
      transform: a.transform,
      metadata: a.metadata,
    });
  } else if (a instanceof VariableAxis || a instanceof RegularAxis || a instanceof NumpyRegularAxis) {
    const e = a.edges();
    const edges = Array.from({ length: bins + 1 }, (_, i) => e[start + i * merge]);
    axis = new VariableAxis(edges, { underflow: a.underflow, overflow: a.overflow, metadata: a.metadata });
  } else if (a instanceof IntegerAxis) {
    if (merge !== 1) throw new InvalidArgumentError("Integer axes cannot be rebinned");
    axis = new IntegerAxis(a.min + start, a.min + stop, {
      underflow: a.underflow,
      overflow: a.overflow,
      metadata: a.metadata,
    });
  } else if (a instanceof StrCategoryAxis || a instanceof IntCategoryAxis) {
    if (merge !== 1) throw new InvalidArgumentError("category axes cannot be rebinned");
    const cats = a.categories.slice(start, stop);
    axis =
      a instanceof StrCategoryAxis
        ? new StrCategoryAxis(cats as string[], { flow: a.overflow, metadata: a.metadata })
        : new IntCategoryAxis(cats as number[], { flow: a.overflow, metadata: a.metadata });
  } else if (a instanceof BooleanAxis) {
    if (start !== 0 || stop !== 2) throw new InvalidArgumentError("cannot slice a Boolean axis");
    axis = a.clone();
  } else throw new InvalidArgumentError(`cannot slice ${a.repr()}`);
  const uf = a.underflow ? 1 : 0;
  const nuf = axis.underflow ? 1 : 0;
  const map = new Int32Array(a.extent).fill(-1);
  for (let p = 0; p < a.extent; p++) {
    const bin = p - uf;
    if (bin >= start && bin < stop) map[p] = Math.floor((bin - start) / merge) + nuf;
    else if (act.crop) continue;
    else if (bin < start && axis.underflow) map[p] = 0;
    else if (bin < start && isCategory(axis) && axis.overflow) map[p] = axis.extent - 1;
    else if (bin >= stop && axis.overflow) map[p] = axis.extent - 1;
  }
  return { axis, map };
}

/** Category axes have only the "other" bin, which takes what a slice removes on either side. */
function isCategory(a: Axis): boolean {
  return a.type === "category_int" || a.type === "category_str";
}

/** Keeps the listed axes in the listed order (reordering allowed), summing over the others. */
export function project(h: Histogram, axes: readonly number[], opts: { flow?: boolean } = {}): Histogram {
  for (const k of axes) if (!(k >= 0 && k < h.rank)) throw new InvalidArgumentError(`no axis ${k}`);
  if (new Set(axes).size !== axes.length) throw new InvalidArgumentError("project: axes must be distinct");
  const summed = reduce(
    h,
    h.axes.map((_, k) => (axes.includes(k) ? { kind: "keep" } : { kind: "sum", flow: opts.flow ?? true })),
  );
  const order = [...axes].sort((a, b) => a - b);
  if (axes.every((k, i) => k === order[i])) return summed;
  return transpose(
    summed,
    axes.map((k) => order.indexOf(k)),
  );
}

/** Reorders axes: result axis i is source axis perm[i]. */
export function transpose(h: Histogram, perm: readonly number[]): Histogram {
  const axes = perm.map((k) => h.axes[k].clone());
  const out = new Histogram(axes, { storage: h.storageType, metadata: h.metadata, limits: h.limits });
  out.varianceKnown = h.varianceKnown;
  const ext = axes.map((a) => a.extent);
  forEachCell(h.extents, (flat, pos) => {
    let d = 0;
    for (let i = 0; i < perm.length; i++) d = d * ext[i] + pos[perm[i]];
    out.storage.addCell(d, h.storage, flat);
  });
  return out;
}

export interface View {
  shape: number[];
  data: Float64Array;
}

/** One field per cell, C order, with or without flow cells. */
function view(h: Histogram, flow: boolean, cell: (i: number) => number): View {
  if (flow) {
    const data = new Float64Array(h.cells);
    for (let i = 0; i < data.length; i++) data[i] = cell(i);
    return { shape: h.extents, data };
  }
  const shape = h.axes.map((a) => a.size);
  const data = new Float64Array(shape.reduce((p, e) => p * e, 1));
  let j = 0;
  forEachCell(h.extents, (flat, pos) => {
    for (let k = 0; k < pos.length; k++) {
      const b = pos[k] - (h.axes[k].underflow ? 1 : 0);
      if (b < 0 || b >= h.axes[k].size) return;
    }
    data[j++] = cell(flat);
  });
  return { shape, data };
}

/** PlottableHistogram values: counts/sums, or the mean for mean storages. */
export function values(h: Histogram, flow = false): View {
  const f = h.storage.fields;
  const t = h.storageType;
  const src = t === "mean" ? f[1] : t === "weighted_mean" ? f[2] : f[0];
  return view(h, flow, (i) => src[i]);
}

/** PlottableHistogram variances: Σw² for weighted storages, the variance of the mean for mean storages, the
 * counts for unweighted int/double storages, and undefined once they are unknown (weighted int/double fills). */
export function variances(h: Histogram, flow = false): View | undefined {
  const f = h.storage.fields;
  switch (h.storageType) {
    case "int":
    case "double":
      return h.varianceKnown ? view(h, flow, (i) => f[0][i]) : undefined;
    case "weighted":
      return view(h, flow, (i) => f[1][i]);
    case "mean":
      return view(h, flow, (i) => (f[0][i] > 1 ? f[2][i] / (f[0][i] - 1) / f[0][i] : Number.NaN));
    case "weighted_mean":
      return view(h, flow, (i) => {
        const [sw, sw2, m2] = [f[0][i], f[1][i], f[3][i]];
        return sw * sw > sw2 ? m2 / (sw - sw2 / sw) / sw : Number.NaN;
      });
  }
}

/** PlottableHistogram counts: Σw, or the effective count Σw²/Σw² for weighted means. */
export function counts(h: Histogram, flow = false): View {
  const f = h.storage.fields;
  if (h.storageType === "weighted_mean")
    return view(h, flow, (i) => (f[1][i] === 0 ? 0 : (f[0][i] * f[0][i]) / f[1][i]));
  return view(h, flow, (i) => f[0][i]);
}

/** Sum of values (Neumaier-compensated, as boost's algorithm::sum), with or without flow. */
export function sum(h: Histogram, flow = false): number {
  const src =
    h.storageType === "mean" || h.storageType === "weighted_mean" ? counts(h, flow) : values(h, flow);
  let s = 0;
  let c = 0;
  for (const x of src.data) {
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}
