// A 1,000,000 x 1,000 regular x regular double histogram (1,002,002,004 cells with flow, ~8 GB): created in one
// Float64Array of exactly cells x 8 bytes (no hidden copy), filled with a few thousand events whose cells come
// from numpy here (boost's index formula), and freed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Histogram, RegularAxis } from "../../src/engine/index.ts";
import { runPython } from "../support/python.ts";

const NX = 1_000_000;
const NY = 1_000;
const N = 5_000;
const GiB = 2 ** 30;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

test("a 1e6 x 1e3 double histogram (8 GB) is one Float64Array, fills the right cells, and is freed", async () => {
  // Events and the expected value of every touched cell: all N events with weight 1, then the first 1000 again
  // with weight 0.5. Positions: underflow 0, bins 1..n, overflow n+1 (NaN too); C order, y fastest.
  const out = runPython(`import json, base64, numpy as np
rng = np.random.default_rng(99)
n = ${N}
x = rng.uniform(-0.05, 1.05, n); y = rng.uniform(-5.0, 105.0, n)
x[:6] = [0.0, 1.0, np.nextafter(1.0, 0), np.nan, -np.inf, 0.29]; y[:6] = [100.0, 0.0, -np.inf, 50.0, np.inf, 15.0]
def pos(v, lo, hi, bins):
    with np.errstate(invalid="ignore"):
        z = (v - lo) / (hi - lo)
        p = np.where(z < 1, np.where(z >= 0, np.trunc(z * bins) + 1, 0), bins + 1)
    return np.minimum(np.where(np.isnan(z), bins + 1, p), bins + 1).astype(np.int64)
flat = pos(x, 0.0, 1.0, ${NX}) * (${NY} + 2) + pos(y, 0.0, 100.0, ${NY})
w = np.ones(n); w[:1000] += 0.5
cells, inv = np.unique(flat, return_inverse=True)
vals = np.zeros(len(cells)); np.add.at(vals, inv, w)
print(json.dumps({"x": base64.b64encode(x.tobytes()).decode(), "y": base64.b64encode(y.tobytes()).decode(),
                  "cells": cells.tolist(), "values": vals.tolist()}))`);
  const ref = JSON.parse(out) as { x: string; y: string; cells: number[]; values: number[] };
  const f64 = (b: string) => {
    const buf = Buffer.from(b, "base64");
    return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  };
  const x = f64(ref.x);
  const y = f64(ref.y);

  gc();
  const base = process.memoryUsage().arrayBuffers;
  let h: Histogram | undefined = new Histogram([new RegularAxis(NX, 0, 1), new RegularAxis(NY, 0, 100)], {
    storage: "double",
  });
  const cells = (NX + 2) * (NY + 2);
  assert.equal(cells, 1_002_002_004);
  assert.equal(h.cells, cells);
  assert.equal(h.storage.fields.length, 1);
  let values: Float64Array | undefined = h.storage.fields[0];
  assert.ok(values instanceof Float64Array);
  assert.equal(values.length, cells);
  assert.equal(values.byteLength, cells * 8);
  assert.equal(values.buffer.byteLength, cells * 8, "the storage is not a view into a larger buffer");
  const grown = process.memoryUsage().arrayBuffers - base;
  const gib = (b: number) => `${(b / GiB).toFixed(2)} GiB`;
  assert.ok(grown > cells * 8 * 0.95 && grown < cells * 8 * 1.1, `arrayBuffers grew by ${gib(grown)}`);

  h.fill([x, y]);
  h.fill([x.subarray(0, 1000), y.subarray(0, 1000)], { weight: 0.5 });
  assert.equal(h.storage.fields[0], values, "filling kept the same array (no relayout, no copy)");
  const afterFill = process.memoryUsage().arrayBuffers - base;
  assert.ok(afterFill < cells * 8 * 1.1, `filling allocated: ${gib(afterFill)} in array buffers`);

  for (let k = 0; k < ref.cells.length; k++)
    assert.equal(values[ref.cells[k]], ref.values[k], `cell ${ref.cells[k]}`);
  // One pass over all 1e9 cells: nothing outside the expected ones.
  let nonzero = 0;
  let sum = 0;
  for (let i = 0; i < cells; i++) {
    const v = values[i];
    if (v !== 0) {
      nonzero++;
      sum += v;
    }
  }
  assert.equal(nonzero, ref.cells.length);
  assert.equal(sum, N + 500);

  h = undefined;
  values = undefined;
  // V8 releases large backing stores from a background thread: give it a few collections to do so.
  let freed = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 40 && freed >= 0.05 * cells * 8; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
    freed = process.memoryUsage().arrayBuffers - base;
  }
  assert.ok(freed < 0.05 * cells * 8, `after freeing, ${gib(freed)} is still held`);
});
