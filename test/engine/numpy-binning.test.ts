// numpy's binning, count for count: NumpyRegularAxis against numpy.histogram(range=, bins=), and VariableAxis
// over linspace edges without flow against numpy.histogram2d / histogramdd, on float64 and int32 data holding
// every edge, one ulp either side of every edge, the range ends, NaN and ±inf; plus empty and tiny ranges.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Axis, Histogram, NumpyRegularAxis, VariableAxis } from "../../src/engine/index.ts";
import { runPython } from "../support/python.ts";

type Config = { bins: number; lo: number; hi: number; dtype: "float64" | "int32"; intRange?: boolean };

const CONFIGS: Config[] = [
  { bins: 10, lo: 0, hi: 1, dtype: "float64" },
  { bins: 100, lo: 0, hi: 1, dtype: "float64" },
  { bins: 22, lo: 0, hi: 22, dtype: "float64" },
  { bins: 7, lo: -0.3, hi: 1.7, dtype: "float64" },
  { bins: 3, lo: 1e-3, hi: 1e3, dtype: "float64" },
  { bins: 997, lo: -3.3, hi: 1e5, dtype: "float64" },
  { bins: 1, lo: 5, hi: 5, dtype: "float64" }, // empty range: numpy widens it to [4.5, 5.5]
  { bins: 4, lo: -2.5, hi: -2.5, dtype: "float64" },
  { bins: 1000, lo: 1, hi: 1 + 1e-9, dtype: "float64" }, // many bins over a tiny range
  { bins: 5, lo: 1, hi: 1 + 1e-15, dtype: "float64" },
  { bins: 3, lo: 1, hi: 1 + 4.5e-16, dtype: "float64" }, // too many bins: numpy refuses
  { bins: 1000, lo: 0, hi: 1e-310, dtype: "float64" }, // subnormal range
  { bins: 50, lo: -1e-300, hi: 1e-300, dtype: "float64" },
  { bins: 10, lo: 2 ** 53, hi: 2 ** 53 + 1000, dtype: "float64" },
  { bins: 13, lo: -1e300, hi: 1e300, dtype: "float64" },
  { bins: 22, lo: 0, hi: 22, dtype: "int32", intRange: true },
  { bins: 7, lo: -5, hi: 5, dtype: "int32", intRange: true },
  { bins: 10, lo: -(2 ** 31), hi: 2 ** 31 - 1, dtype: "int32", intRange: true },
  { bins: 3, lo: 4, hi: 4, dtype: "int32", intRange: true },
  { bins: 9, lo: -0.5, hi: 17.25, dtype: "int32" },
];

/** Shared Python: test values for an axis from its numpy edges (edges, ulps either side, ends, NaN, ±inf). */
const DATA_PY = `
import base64, json, sys
import numpy as np
def values(rng, edges, lo, hi, dtype, n=3000):
    span = (hi - lo) or 1.0
    if dtype == "int32":
        c = [np.floor(e) for e in edges] + [np.ceil(e) for e in edges] + [lo, hi, lo - 1, hi + 1]
        c = np.clip(np.array(c, dtype=np.float64), -2**31, 2**31 - 1)
        u = rng.uniform(max(lo - 0.2 * span, -2**31), min(hi + 0.2 * span, 2**31 - 1), n)
        return np.concatenate([c, np.floor(u), [-2**31, 2**31 - 1, 0]]).astype(np.int32)
    e = np.asarray(edges, dtype=np.float64)
    parts = [e, np.nextafter(e, -np.inf), np.nextafter(e, np.inf), [lo, hi, np.nan, np.inf, -np.inf, 0.0, -0.0],
             rng.uniform(lo - 0.2 * span, hi + 0.2 * span, n)]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
def b64(a): return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()
`;

function decode(b64: string, dtype: "float64" | "int32"): Float64Array | Int32Array {
  const buf = Buffer.from(b64, "base64");
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return dtype === "float64" ? new Float64Array(ab) : new Int32Array(ab);
}

function counts(h: Histogram): number[] {
  return Array.from(h.storage.fields[0]);
}

test("NumpyRegularAxis counts equal numpy.histogram(range=, bins=)", () => {
  const out = runPython(
    `${DATA_PY}
rng = np.random.default_rng(12345)
for c in json.loads(sys.stdin.read()):
    rg = (int(c["lo"]), int(c["hi"])) if c.get("intRange") else (c["lo"], c["hi"])
    try:
        _, edges = np.histogram([], bins=c["bins"], range=rg)
        x = values(rng, edges, c["lo"], c["hi"], c["dtype"])
        cnt, _ = np.histogram(x, bins=c["bins"], range=rg)
        print(json.dumps({"data": b64(x), "counts": cnt.tolist(), "edges": b64(edges)}))
    except ValueError as e:
        print(json.dumps({"error": str(e)}))`,
    JSON.stringify(CONFIGS),
  )
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { data?: string; counts?: number[]; edges?: string; error?: string });
  assert.equal(out.length, CONFIGS.length);
  let refused = 0;
  CONFIGS.forEach((c, i) => {
    const label = JSON.stringify(c);
    const r = out[i];
    if (r.error !== undefined) {
      refused++;
      assert.throws(() => new NumpyRegularAxis(c.bins, c.lo, c.hi), { code: "INVALID_ARGUMENT" }, label);
      return;
    }
    const axis = new NumpyRegularAxis(c.bins, c.lo, c.hi);
    assert.deepEqual(Array.from(axis.edges()), Array.from(decode(r.edges!, "float64")), `${label}: edges`);
    const h = new Histogram([axis], { storage: "int" });
    h.fill([decode(r.data!, c.dtype)]);
    assert.deepEqual(counts(h), r.counts, label);
    // Plain arrays and a broadcast scalar per value give the same counts.
    const h2 = new Histogram([new NumpyRegularAxis(c.bins, c.lo, c.hi)], { storage: "double" });
    h2.fill([Array.from(decode(r.data!, c.dtype))]);
    assert.deepEqual(counts(h2), r.counts, `${label}: plain array`);
  });
  assert.equal(refused, 1, "the too-many-bins range is refused by numpy");
});

const VAR_CONFIGS: [Config, Config][] = [
  [
    { bins: 10, lo: 0, hi: 1, dtype: "float64" },
    { bins: 7, lo: -0.3, hi: 1.7, dtype: "float64" },
  ],
  [
    { bins: 22, lo: 0, hi: 22, dtype: "float64" },
    { bins: 1000, lo: 1, hi: 1 + 1e-9, dtype: "float64" },
  ],
  [
    { bins: 3, lo: 1e-3, hi: 1e3, dtype: "float64" },
    { bins: 50, lo: -1e-300, hi: 1e-300, dtype: "float64" },
  ],
  [
    { bins: 22, lo: 0, hi: 22, dtype: "int32" },
    { bins: 9, lo: -0.5, hi: 17.25, dtype: "int32" },
  ],
  [
    { bins: 10, lo: -(2 ** 31), hi: 2 ** 31 - 1, dtype: "int32" },
    { bins: 100, lo: 0, hi: 1, dtype: "float64" },
  ],
];

test("VariableAxis over linspace edges without flow equals numpy.histogram2d / histogramdd", () => {
  const out = runPython(
    `${DATA_PY}
rng = np.random.default_rng(777)
for cx, cy in json.loads(sys.stdin.read()):
    ex = np.linspace(cx["lo"], cx["hi"], cx["bins"] + 1)
    ey = np.linspace(cy["lo"], cy["hi"], cy["bins"] + 1)
    x = values(rng, ex, cx["lo"], cx["hi"], cx["dtype"])
    y = values(rng, ey, cy["lo"], cy["hi"], cy["dtype"])
    n = min(len(x), len(y))
    # every pairing of special values: x against a shuffled y, then y against a shuffled x
    xs = np.concatenate([x[:n], rng.permutation(x)[:n]])
    ys = np.concatenate([rng.permutation(y)[:n], y[:n]])
    h2, _, _ = np.histogram2d(xs, ys, bins=[ex, ey])
    hx, _ = np.histogramdd(np.asarray(xs, dtype=np.float64)[:, None], bins=[ex])
    h1, _ = np.histogram(xs, bins=ex)
    print(json.dumps({"x": b64(xs), "y": b64(ys), "ex": b64(ex), "ey": b64(ey), "h2": h2.astype(int).ravel().tolist(),
                      "hdd": hx.astype(int).tolist(), "h1": h1.tolist()}))`,
    JSON.stringify(VAR_CONFIGS),
  )
    .trim()
    .split("\n")
    .map(
      (l) =>
        JSON.parse(l) as {
          x: string;
          y: string;
          ex: string;
          ey: string;
          h2: number[];
          hdd: number[];
          h1: number[];
        },
    );
  assert.equal(out.length, VAR_CONFIGS.length);
  VAR_CONFIGS.forEach(([cx, cy], i) => {
    const label = JSON.stringify([cx, cy]);
    const r = out[i];
    const noFlow = { underflow: false, overflow: false };
    const ax = (e: string): Axis => new VariableAxis(decode(e, "float64"), noFlow);
    const xs = decode(r.x, cx.dtype);
    const ys = decode(r.y, cy.dtype);
    assert.ok(xs.some((v) => Number.isNaN(v)) || cx.dtype === "int32");
    const h2 = new Histogram([ax(r.ex), ax(r.ey)], { storage: "int" });
    h2.fill([xs, ys]);
    assert.deepEqual(counts(h2), r.h2, `${label}: histogram2d`);
    const h1 = new Histogram([ax(r.ex)], { storage: "double" });
    h1.fill([xs]);
    assert.deepEqual(counts(h1), r.hdd, `${label}: histogramdd`);
    assert.deepEqual(counts(h1), r.h1, `${label}: histogram with edges`);
    // NumpyRegularAxis in 2-D is histogram2d with range= too (linspace edges, last one inclusive).
    if (cx.dtype === "float64" && cy.dtype === "float64") {
      const hn = new Histogram(
        [new NumpyRegularAxis(cx.bins, cx.lo, cx.hi), new NumpyRegularAxis(cy.bins, cy.lo, cy.hi)],
        { storage: "int" },
      );
      hn.fill([xs, ys]);
      assert.deepEqual(counts(hn), r.h2, `${label}: NumpyRegularAxis x2`);
    }
  });
});
