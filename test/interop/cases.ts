// Random histogram definitions and fill data for the interop tests: every axis type and option, every storage,
// every dtype, and the values that expose binning differences (edges, one ulp off them, NaN, ±inf).
import { type FillValue, nextDown, nextUp, type StorageType, type UhiAxis } from "../../src/engine/index.ts";
import type { Rng } from "../support/random.ts";

export type Dtype = "float64" | "float32" | "int64" | "int32" | "bool" | "str";
export type ColumnSpec =
  | { kind: "array"; dtype: Dtype; values: (number | string | boolean)[] }
  | { kind: "scalar"; value: number | string | boolean };
export interface FillSpec {
  args: ColumnSpec[];
  weight?: ColumnSpec;
  sample?: ColumnSpec;
}
export interface Case {
  uhi: { uhi_schema: 1; axes: UhiAxis[]; storage: { type: StorageType } };
  fills: FillSpec[];
}

interface AxisGen {
  uhi: UhiAxis;
  values(rng: Rng, n: number): { dtype: Dtype; values: (number | string | boolean)[] };
}

const bh = (info: Record<string, string | number | boolean>) => ({ "boost-histogram": info });

function floatValues(
  rng: Rng,
  n: number,
  edges: number[],
  intish = false,
  nearEdges = true,
): { dtype: Dtype; values: number[] } {
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const span = hi - lo;
  const dtype: Dtype = intish
    ? rng.pick(["int32", "int64"] as const)
    : rng.pick(["float64", "float64", "float32", "int32", "int64"] as const);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    let x: number;
    const r = rng.next();
    if (dtype === "int32" || dtype === "int64")
      x = Math.round(lo - span * 0.3 + rng.next() * span * 1.6) || 0; // never -0
    else if (r < 0.5) x = lo - span * 0.2 + rng.next() * span * 1.4;
    else if (r < 0.7) x = rng.pick(edges);
    else if (r < 0.8 && nearEdges) x = nextUp(rng.pick(edges));
    else if (r < 0.9 && nearEdges) x = nextDown(rng.pick(edges));
    else x = rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, lo, hi, 0, -0]);
    if (dtype === "float32") x = Math.fround(x);
    values.push(x);
  }
  return { dtype, values };
}

function regular(rng: Rng): AxisGen {
  const presets: [number, number, number][] = [
    [100, 0, 1],
    [22, 0, 22],
    [10, -2, 2],
    [7, -0.3, 1.7],
    [3, 1e-3, 1e3],
  ];
  const [bins, lower, upper] = rng.chance(0.5)
    ? rng.pick(presets)
    : [rng.int(1, 30), -rng.next() * 10, rng.next() * 10 + 0.1];
  const mode = rng.pick(["plain", "plain", "plain", "growth", "circular", "transform"] as const);
  const base = {
    type: "regular" as const,
    lower,
    upper,
    bins,
    circular: false,
    underflow: true,
    overflow: true,
  };
  let uhi: UhiAxis;
  let edges: number[] = Array.from({ length: bins + 1 }, (_, i) => lower + ((upper - lower) * i) / bins);
  if (mode === "growth") uhi = { ...base, writer_info: bh({ growth: true }) };
  else if (mode === "circular") uhi = { ...base, underflow: false, circular: true };
  else if (mode === "transform") {
    const t = rng.pick(["log", "sqrt", "pow"] as const);
    const lo = t === "log" ? 1e-2 + rng.next() : rng.next();
    const hi = lo + 1 + rng.next() * 100;
    const info: Record<string, string | number> = { transform: t, bins, lower: lo, upper: hi };
    if (t === "pow") info.power = 2;
    edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
    uhi = {
      type: "variable",
      edges,
      underflow: true,
      overflow: true,
      circular: false,
      writer_info: bh(info),
    };
    // Python rebuilds the exact edges from writer_info; ours are only used for choosing test values.
  } else uhi = { ...base, underflow: rng.chance(0.7), overflow: rng.chance(0.7) };
  // One ulp from a log/pow-transformed edge, the bin depends on libm's last bit (see fill-vs-boost.test.ts).
  return { uhi, values: (r, n) => floatValues(r, n, edges, false, mode !== "transform") };
}

function variable(rng: Rng): AxisGen {
  const n = rng.int(1, 8);
  const edges = [rng.next() * 4 - 2];
  for (let i = 0; i < n; i++) edges.push(edges[i] + rng.pick([0.1, 0.3, 1, rng.next() + 1e-3]));
  const mode = rng.pick(["plain", "plain", "growth", "circular"] as const);
  const uhi: UhiAxis =
    mode === "growth"
      ? {
          type: "variable",
          edges,
          underflow: true,
          overflow: true,
          circular: false,
          writer_info: bh({ growth: true }),
        }
      : mode === "circular"
        ? { type: "variable", edges, underflow: false, overflow: true, circular: true }
        : { type: "variable", edges, underflow: rng.chance(0.7), overflow: rng.chance(0.7), circular: false };
  return { uhi, values: (r, k) => floatValues(r, k, edges) };
}

function integer(rng: Rng): AxisGen {
  const lower = rng.int(-5, 5);
  const upper = lower + rng.int(1, 12);
  const mode = rng.pick(["plain", "plain", "growth", "circular"] as const);
  const base = { type: "regular" as const, lower, upper, bins: upper - lower };
  const uhi: UhiAxis =
    mode === "growth"
      ? {
          ...base,
          underflow: false,
          overflow: false,
          circular: false,
          writer_info: bh({ orig_type: "Integer", growth: true }),
        }
      : mode === "circular"
        ? {
            ...base,
            underflow: false,
            overflow: false,
            circular: true,
            writer_info: bh({ orig_type: "Integer" }),
          }
        : {
            ...base,
            underflow: rng.chance(0.7),
            overflow: rng.chance(0.7),
            circular: false,
            writer_info: bh({ orig_type: "Integer" }),
          };
  return { uhi, values: (r, n) => floatValues(r, n, [lower, upper], true) };
}

function intCategory(rng: Rng): AxisGen {
  const cats = [...new Set(Array.from({ length: rng.int(1, 6) }, () => rng.int(-20, 20)))];
  const growth = rng.chance(0.3);
  const uhi: UhiAxis = growth
    ? { type: "category_int", categories: cats, flow: false, writer_info: bh({ growth: true }) }
    : { type: "category_int", categories: cats, flow: rng.chance(0.6) };
  return {
    uhi,
    values: (r, n) => ({
      dtype: r.pick(["int32", "int64"] as const),
      values: Array.from({ length: n }, () => (r.chance(0.7) ? r.pick(cats) : r.int(-25, 25))),
    }),
  };
}

function strCategory(rng: Rng): AxisGen {
  const words = ["data", "drell-yan", "ttbar", "QCD", "W+jets", "é", ""];
  const cats = [...new Set(Array.from({ length: rng.int(1, 4) }, () => rng.pick(words)))];
  const growth = rng.chance(0.3);
  const uhi: UhiAxis = growth
    ? { type: "category_str", categories: cats, flow: false, writer_info: bh({ growth: true }) }
    : { type: "category_str", categories: cats, flow: rng.chance(0.6) };
  return {
    uhi,
    values: (r, n) => ({ dtype: "str", values: Array.from({ length: n }, () => r.pick(words)) }),
  };
}

function boolean(): AxisGen {
  return {
    uhi: { type: "boolean" },
    values: (r, n) => ({
      dtype: r.pick(["bool", "int32"] as const),
      values: Array.from({ length: n }, () => (r.chance(0.5) ? 1 : 0)),
    }),
  };
}

export function randomCase(rng: Rng, opts: { storage?: StorageType } = {}): Case {
  const rank = rng.pick([1, 1, 2, 2, 3]);
  const gens = Array.from({ length: rank }, () =>
    rng.pick([regular, regular, variable, integer, intCategory, strCategory, boolean])(rng),
  );
  const storage = opts.storage ?? rng.pick(["int", "double", "weighted", "mean", "weighted_mean"] as const);
  const fills: FillSpec[] = [];
  for (let f = rng.int(1, 3); f > 0; f--) {
    const n = rng.pick([1, 5, 50, 500, 20000]);
    const args: ColumnSpec[] = gens.map((g) => {
      const { dtype, values } = g.values(rng, n);
      // A broadcast scalar now and then (boost linearizes it once for the whole fill).
      if (rng.chance(0.15)) return { kind: "scalar", value: values[0] };
      return { kind: "array", dtype, values: dtype === "bool" ? values.map(Boolean) : values };
    });
    const anyArray = args.some((a) => a.kind === "array");
    const len = anyArray ? n : 1;
    const fill: FillSpec = { args };
    const weighted = storage === "weighted_mean" ? rng.chance(0.8) : rng.chance(0.5);
    if (weighted)
      fill.weight = rng.chance(0.2)
        ? { kind: "scalar", value: 0.5 + rng.next() }
        : {
            kind: "array",
            dtype: "float64",
            values: Array.from({ length: len }, () =>
              storage === "int" ? rng.int(0, 3) + rng.next() : rng.next() * 3,
            ),
          };
    if (storage === "mean" || storage === "weighted_mean")
      fill.sample = {
        kind: "array",
        dtype: "float64",
        values: Array.from({ length: len }, () => rng.normal() * 10),
      };
    fills.push(fill);
  }
  return { uhi: { uhi_schema: 1, axes: gens.map((g) => g.uhi), storage: { type: storage } }, fills };
}

/** The typed array (or plain array / scalar) a column spec stands for, as the engine takes it. */
export function toFillValue(c: ColumnSpec): FillValue {
  if (c.kind === "scalar") return c.value;
  const v = c.values;
  switch (c.dtype) {
    case "float64":
      return Float64Array.from(v as number[]);
    case "float32":
      return Float32Array.from(v as number[]);
    case "int32":
      return Int32Array.from(v as number[]);
    case "int64":
      return BigInt64Array.from((v as number[]).map((x) => BigInt(x)));
    case "bool":
      return v as boolean[];
    case "str":
      return v as string[];
  }
}
