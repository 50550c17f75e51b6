// The engine benchmark cases: the same arrays are filled by histd, boost-histogram and numpy.
import {
  type Axis,
  IntegerAxis,
  RegularAxis,
  type StorageType,
  StrCategoryAxis,
  VariableAxis,
} from "../src/engine/index.ts";

export interface BenchColumn {
  name: string;
  dtype: "float64" | "int32" | "str";
  data: Float64Array | Int32Array | string[];
}

export interface BenchCase {
  name: string;
  axes: () => Axis[];
  storage: StorageType;
  columns: BenchColumn[];
  weight?: Float64Array;
  /** Python expressions building the same histogram (bh = boost_histogram) and the numpy equivalent. */
  bh: string;
  numpy: string;
}

/** Deterministic xorshift data so every tool sees the same events. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function normal(n: number, seed: number, shared: boolean): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(shared ? new SharedArrayBuffer(n * 8) : new ArrayBuffer(n * 8));
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

function ints(n: number, lo: number, hi: number, seed: number, shared: boolean): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(r() * (hi - lo));
  return out;
}

export function benchCases(n: number): BenchCase[] {
  const x = normal(n, 1, true);
  const y = normal(n, 2, true);
  const tof = ints(n, 0, 71_000_000, 3, true);
  const pixel = ints(n, 0, 1_000_000, 4, true);
  const w = normal(n, 5, true).map(Math.abs);
  const datasets = ["data", "drell-yan", "ttbar", "qcd"];
  const r = rng(6);
  const cat = Array.from({ length: n }, () => datasets[Math.floor(r() * 4)]);
  const edges = Array.from(
    { length: 100 },
    (_, i) => -3 + (6 * i) / 99 + (i > 0 && i < 99 ? 0.01 * Math.sin(i) : 0),
  );
  return [
    {
      name: "1d-regular-100-float64",
      axes: () => [new RegularAxis(100, -3, 3)],
      storage: "int",
      columns: [{ name: "x", dtype: "float64", data: x }],
      bh: "bh.Histogram(bh.axis.Regular(100, -3, 3), storage=bh.storage.Int64())",
      numpy: "lambda c: np.histogram(c[0], bins=100, range=(-3, 3))",
    },
    {
      name: "1d-regular-tof-int32",
      axes: () => [new RegularAxis(1000, 0, 71_000_000)],
      storage: "int",
      columns: [{ name: "tof", dtype: "int32", data: tof }],
      bh: "bh.Histogram(bh.axis.Regular(1000, 0, 71_000_000), storage=bh.storage.Int64())",
      numpy: "lambda c: np.histogram(c[0], bins=1000, range=(0, 71_000_000))",
    },
    {
      name: "2d-regular-1000x1000",
      axes: () => [new RegularAxis(1000, -3, 3), new RegularAxis(1000, -3, 3)],
      storage: "double",
      columns: [
        { name: "x", dtype: "float64", data: x },
        { name: "y", dtype: "float64", data: y },
      ],
      bh: "bh.Histogram(bh.axis.Regular(1000, -3, 3), bh.axis.Regular(1000, -3, 3))",
      numpy: "lambda c: np.histogram2d(c[0], c[1], bins=1000, range=((-3, 3), (-3, 3)))",
    },
    {
      name: "integer-1M-pixels",
      axes: () => [new IntegerAxis(0, 1_000_000)],
      storage: "int",
      columns: [{ name: "pixel", dtype: "int32", data: pixel }],
      bh: "bh.Histogram(bh.axis.Integer(0, 1_000_000), storage=bh.storage.Int64())",
      numpy: "lambda c: np.bincount(c[0], minlength=1_000_000)",
    },
    {
      name: "variable-100-edges",
      axes: () => [new VariableAxis(edges)],
      storage: "int",
      columns: [{ name: "x", dtype: "float64", data: x }],
      bh: `bh.Histogram(bh.axis.Variable(${JSON.stringify(edges)}), storage=bh.storage.Int64())`,
      numpy: `lambda c: np.histogram(c[0], bins=np.array(${JSON.stringify(edges)}))`,
    },
    {
      name: "weighted-2d-strcat",
      axes: () => [new RegularAxis(100, -3, 3), new StrCategoryAxis(datasets)],
      storage: "weighted",
      columns: [
        { name: "x", dtype: "float64", data: x },
        { name: "dataset", dtype: "str", data: cat },
      ],
      weight: w,
      bh: `bh.Histogram(bh.axis.Regular(100, -3, 3), bh.axis.StrCategory(${JSON.stringify(datasets)}), storage=bh.storage.Weight())`,
      numpy: `lambda c, w: [np.histogram(c[0][c[1] == d], bins=100, range=(-3, 3), weights=w[c[1] == d]) for d in ${JSON.stringify(datasets)}]`,
    },
  ];
}
