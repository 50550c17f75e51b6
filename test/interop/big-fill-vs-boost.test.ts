// Fills big enough for the engine's partitioned scatter (>= 2^18 entries into > 2^17 cells) and for FillPool's
// split by cells, against boost-histogram bit for bit: int storage with fractional weights (truncation after
// every entry), weighted and double storages with weights, two fills onto the same histogram (so the order in
// which each cell receives its entries matters), flow bins, dropped entries and a category axis. FillPool splits
// weighted fills by cells (which keeps each cell's order), and unweighted fills by events (counts are exact in any
// order).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  type Axis,
  FillPool,
  Histogram,
  IntCategoryAxis,
  IntegerAxis,
  RegularAxis,
  type StorageType,
} from "../../src/engine/index.ts";
import { runPython } from "../support/python.ts";
import { Rng } from "../support/random.ts";

const N = 300_000;
const pool = new FillPool(2);
after(() => pool.close());

interface BigCase {
  name: string;
  axes: () => Axis[];
  storage: StorageType;
  bh: string;
  /** Per fill: one array per axis (int32 or float64) and the weight (array, scalar or none). */
  fills: { args: (Int32Array | Float64Array)[]; weight?: Float64Array | number }[];
}

function sharedF64(n: number, f: (i: number) => number): Float64Array {
  const a = new Float64Array(new SharedArrayBuffer(n * 8));
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

function sharedI32(n: number, f: (i: number) => number): Int32Array {
  const a = new Int32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

function cases(): BigCase[] {
  const rng = new Rng(77);
  const pixels = () => sharedI32(N, () => rng.int(-50, 400_050));
  const normal = () => sharedF64(N, () => rng.normal() * 1.5);
  const weights = () => sharedF64(N, () => rng.next() * 2.5);
  const cats = () => sharedI32(N, () => rng.int(0, 260));
  return [
    {
      name: "integer axis, int storage, fractional weights",
      axes: () => [new IntegerAxis(0, 400_000)],
      storage: "int",
      bh: "bh.Histogram(bh.axis.Integer(0, 400_000), storage=bh.storage.Int64())",
      fills: [
        { args: [pixels()], weight: weights() },
        { args: [pixels()], weight: weights() },
      ],
    },
    {
      name: "integer axis without flow, int storage, unweighted (entries dropped; FillPool splits the events)",
      axes: () => [new IntegerAxis(0, 400_000, { underflow: false, overflow: false })],
      storage: "int",
      bh: "bh.Histogram(bh.axis.Integer(0, 400_000, underflow=False, overflow=False), storage=bh.storage.Int64())",
      fills: [{ args: [pixels()] }, { args: [pixels()] }],
    },
    {
      name: "2D regular, weighted storage",
      axes: () => [new RegularAxis(700, -3, 3), new RegularAxis(400, -2, 2)],
      storage: "weighted",
      bh: "bh.Histogram(bh.axis.Regular(700, -3, 3), bh.axis.Regular(400, -2, 2), storage=bh.storage.Weight())",
      fills: [
        { args: [normal(), normal()], weight: weights() },
        { args: [normal(), normal()], weight: weights() },
      ],
    },
    {
      name: "2D regular, int storage, unweighted (FillPool splits the events)",
      axes: () => [new RegularAxis(700, -3, 3), new RegularAxis(400, -2, 2)],
      storage: "int",
      bh: "bh.Histogram(bh.axis.Regular(700, -3, 3), bh.axis.Regular(400, -2, 2), storage=bh.storage.Int64())",
      fills: [{ args: [normal(), normal()] }, { args: [normal(), normal()] }],
    },
    {
      name: "2D regular, double storage, scalar weight",
      axes: () => [new RegularAxis(700, -3, 3), new RegularAxis(400, -2, 2)],
      storage: "double",
      bh: "bh.Histogram(bh.axis.Regular(700, -3, 3), bh.axis.Regular(400, -2, 2), storage=bh.storage.Double())",
      fills: [
        { args: [normal(), normal()], weight: 0.1 },
        { args: [normal(), normal()], weight: 0.3 },
      ],
    },
    {
      name: "int category x regular, double storage, weights",
      axes: () => [
        new IntCategoryAxis(Array.from({ length: 250 }, (_, i) => i)),
        new RegularAxis(1000, -3, 3),
      ],
      storage: "double",
      bh: "bh.Histogram(bh.axis.IntCategory(list(range(250))), bh.axis.Regular(1000, -3, 3), storage=bh.storage.Double())",
      fills: [
        { args: [cats(), normal()], weight: weights() },
        { args: [cats(), normal()], weight: weights() },
      ],
    },
  ];
}

/** Writes an array's bytes (a copy: the shared buffer cannot be written directly) and returns the path. */
function save(path: string, a: Int32Array | Float64Array): string {
  writeFileSync(path, new Uint8Array(a.buffer.slice(0)));
  return path;
}

/** boost-histogram's view (flow included) of each case, as float64 bytes per storage field. */
function boost(cs: BigCase[]): Float64Array[][] {
  const dir = mkdtempSync(join(tmpdir(), "histd-big-"));
  try {
    const spec = cs.map((c, i) => ({
      bh: c.bh,
      fills: c.fills.map((f, j) => ({
        args: f.args.map((a, k) => ({
          path: save(join(dir, `${i}-${j}-${k}`), a),
          dtype: a instanceof Int32Array ? "int32" : "float64",
        })),
        weight:
          f.weight === undefined || typeof f.weight === "number"
            ? (f.weight ?? null)
            : save(join(dir, `${i}-${j}-w`), f.weight),
      })),
      out: join(dir, `${i}-out`),
    }));
    runPython(
      `import json, sys, numpy as np, boost_histogram as bh
for c in json.loads(sys.stdin.read()):
    h = eval(c["bh"])
    for f in c["fills"]:
        args = [np.fromfile(a["path"], dtype=a["dtype"]) for a in f["args"]]
        w = f["weight"]
        kw = {} if w is None else {"weight": w if isinstance(w, float) else np.fromfile(w, dtype="float64")}
        h.fill(*args, **kw)
    v = h.view(flow=True)
    fields = [v["value"], v["variance"]] if v.dtype.names else [v]
    np.concatenate([np.ascontiguousarray(f, dtype="float64").ravel() for f in fields]).tofile(c["out"])`,
      JSON.stringify(spec),
    );
    return cs.map((c, i) => {
      const all = new Float64Array(new Uint8Array(readFileSync(spec[i].out)).buffer);
      const fields = c.storage === "weighted" ? 2 : 1;
      const per = all.length / fields;
      return Array.from({ length: fields }, (_, f) => all.subarray(f * per, (f + 1) * per));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertSame(h: Histogram, want: Float64Array[], label: string): void {
  assert.equal(h.storage.fields.length, want.length, label);
  h.storage.fields.forEach((got, f) => {
    assert.equal(got.length, want[f].length, `${label}: cells`);
    for (let j = 0; j < got.length; j++)
      if (!Object.is(got[j], want[f][j]))
        assert.fail(`${label}: field ${f} cell ${j}: ${got[j]} != ${want[f][j]}`);
  });
}

test("big fills (partitioned scatter, FillPool split by cells) equal boost-histogram", async () => {
  const cs = cases();
  const want = boost(cs);
  for (const [i, c] of cs.entries()) {
    const single = new Histogram(c.axes(), { storage: c.storage });
    const pooled = new Histogram(c.axes(), { storage: c.storage });
    for (const f of c.fills) {
      single.fill(f.args, { weight: f.weight });
      await pool.fill(pooled, f.args, { weight: f.weight });
    }
    assertSame(single, want[i], `${c.name}, one thread`);
    assertSame(pooled, want[i], `${c.name}, FillPool`);
  }
});
