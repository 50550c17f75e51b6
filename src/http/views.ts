// What the HTTP side reads of a catalog entry: axis descriptions, display values (a projection onto one or two
// axes), and UHI-style selections (projections, slices, rebinning, picks) for the REST API.
import type { CatalogEntry } from "../catalog/index.ts";
import {
  type Axis,
  type AxisAction,
  type Histogram,
  InvalidArgumentError,
  project,
  reduce,
  values,
} from "../engine/index.ts";
import type { AxisMeta, EntrySummary } from "./protocol.ts";

export function axisMeta(a: Axis): AxisMeta {
  const m: AxisMeta = {
    type: a.type,
    name: String(a.metadata.name ?? ""),
    label: String(a.metadata.label ?? a.metadata.name ?? ""),
    edges: Array.from(a.edges()),
  };
  const cats = (a as { categories?: readonly (string | number)[] }).categories;
  if ((a.type === "category_str" || a.type === "category_int") && cats) m.categories = [...cats];
  if (a.type === "boolean") m.categories = ["false", "true"];
  return m;
}

export function summary(e: CatalogEntry): EntrySummary {
  const h = e.histogram();
  return {
    key: e.key,
    door: e.door,
    id: e.id,
    name: e.name,
    kind: e.kind,
    version: e.version,
    rank: h.rank,
    storage: h.storageType,
    axes: h.axes.map(axisMeta),
    info: e.info() as Record<string, unknown>,
  };
}

/** The axes a display shows by default: all of a 1D or 2D histogram, else the first two. */
export function defaultAxes(rank: number): number[] {
  return rank <= 1 ? [0] : [0, 1];
}

/** Resolves axis references (indices or names) against a histogram. */
export function resolveAxes(h: Histogram, refs: readonly (string | number)[]): number[] {
  return refs.map((r) => {
    const k =
      typeof r === "number" || /^\d+$/.test(r) ? Number(r) : h.axes.findIndex((a) => a.metadata.name === r);
    if (!(k >= 0 && k < h.rank)) throw new InvalidArgumentError(`no axis '${r}'`);
    return k;
  });
}

/** The values shown for `axes` (no flow bins), with the shown axes. */
export function display(
  h: Histogram,
  axes: number[],
): { shape: number[]; data: Float64Array; axes: AxisMeta[] } {
  const identity = axes.length === h.rank && axes.every((a, i) => a === i);
  const p = identity ? h : project(h, axes);
  const v = values(p);
  return { shape: v.shape, data: v.data, axes: p.axes.map(axisMeta) };
}

/**
 * Parses a selection in UHI slicing syntax, one item per axis separated by commas (missing trailing items keep
 * their axis): "" or ":" keeps, "a:b" slices bins [a, b), "a:b:N" also rebins by N, "sum" sums the axis
 * (h[..., sum]), "a:b:sum" sums bins [a, b), and an integer picks that bin. Bounds may be omitted or negative
 * (from the end), as in Python.
 */
export function parseSelection(h: Histogram, sel: string): AxisAction[] {
  const items = sel === "" ? [] : sel.split(",");
  if (items.length > h.rank)
    throw new InvalidArgumentError(`selection has ${items.length} items for ${h.rank} axes`);
  return h.axes.map((a, k) => {
    const it = (items[k] ?? "").trim();
    if (it === "" || it === ":" || it === "::") return { kind: "keep" };
    if (it === "sum") return { kind: "sum" };
    const bound = (s: string): number | undefined => {
      if (s === "") return undefined;
      if (!/^-?\d+$/.test(s)) throw new InvalidArgumentError(`bad bin number '${s}' in selection '${it}'`);
      const n = Number(s);
      return n < 0 ? a.size + n : n;
    };
    const parts = it.split(":");
    if (parts.length === 1) {
      const bin = bound(parts[0]) as number;
      if (!(bin >= 0 && bin < a.size))
        throw new InvalidArgumentError(`bin ${parts[0]} out of range for axis ${k}`);
      return { kind: "pick", bin };
    }
    if (parts.length > 3) throw new InvalidArgumentError(`bad selection item '${it}'`);
    const start = bound(parts[0]);
    const stop = bound(parts[1]);
    const step = parts[2] ?? "";
    if (step === "sum") return { kind: "sum", start, stop };
    if (step === "") return { kind: "slice", start, stop };
    if (!/^\d+$/.test(step) || Number(step) < 1) throw new InvalidArgumentError(`bad rebin factor '${step}'`);
    return { kind: "slice", start, stop, merge: Number(step) };
  });
}

export function select(h: Histogram, sel: string): Histogram {
  return reduce(h, parseSelection(h, sel));
}
