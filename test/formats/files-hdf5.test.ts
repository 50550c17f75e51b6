// UHI HDF5 files written from IR by h5wasm must read back with Python's uhi.io.hdf5 + h5py as a hist.Hist identical
// to the histogram the IR came from, with the `axes` dataset holding real HDF5 object references.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeUhiHdf5 } from "../../src/formats/files/index.ts";
import { runPython } from "../support/python.ts";
import { checkFiles, makeCases } from "./files-cases.ts";

const LOAD = `
import h5py, uhi.io.hdf5
def load(path):
    with h5py.File(path, "r") as f:
        g = f["histogram"]
        assert g["axes"].dtype == h5py.special_dtype(ref=h5py.Reference), g["axes"].dtype
        return hist.Hist(uhi.io.hdf5.read(g))
`;

test("randomized histograms of every axis and storage type round-trip through UHI HDF5", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-h5-"));
  try {
    const originals = join(dir, "originals.pkl");
    const cases = makeCases(originals, 4242, 20);
    const files: string[] = [];
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `h${i}.h5`);
      await writeUhiHdf5(path, c.ir);
      files.push(path);
    }
    assert.deepEqual(checkFiles(originals, files, LOAD), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the check fails on a wrong file (the test can fail)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-h5-"));
  try {
    const originals = join(dir, "originals.pkl");
    const cases = makeCases(originals, 8, 1);
    const files: string[] = [];
    for (const [i, c] of cases.entries()) {
      const ir = structuredClone(c.ir);
      const first = Object.values(ir.storage.data ?? {})[0];
      if (first && first.length > 0) first[first.length - 1] -= 1;
      const path = join(dir, `h${i}.h5`);
      await writeUhiHdf5(path, ir);
      files.push(path);
    }
    const flagged = new Set(checkFiles(originals, files, LOAD).map((p) => p.split(":")[0]));
    assert.equal(flagged.size, cases.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("layout matches uhi.io.hdf5.write: types, compression, axis order past 10 axes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-h5-"));
  try {
    const path = join(dir, "big.hdf5");
    const n = 12;
    const axes = Array.from({ length: n }, (_, i) => ({
      type: "regular" as const,
      lower: 0,
      upper: i + 1,
      bins: 1,
      underflow: false,
      overflow: i === 0,
      circular: false,
      metadata: { name: `a${i}` },
    }));
    const values = new Float64Array(2);
    values[1] = 5;
    await writeUhiHdf5(
      path,
      { uhi_schema: 1, axes, storage: { type: "double", data: { values } } },
      "histogram",
    );
    const bigPath = join(dir, "wide.h5");
    const wide = new Float64Array(5000).map((_, i) => i % 3);
    await writeUhiHdf5(bigPath, {
      uhi_schema: 1,
      axes: [
        { type: "regular", lower: 0, upper: 1, bins: 4998, underflow: true, overflow: true, circular: false },
      ],
      storage: { type: "weighted", data: { values: wide, variances: wide } },
      metadata: { name: "w", flag: true, n: 3, x: 0.5 },
    });
    const out = runPython(
      String.raw`
import sys, json, h5py, uhi.io.hdf5, hist
with h5py.File(sys.argv[1]) as f:
    g = f["histogram"]
    ir = uhi.io.hdf5.read(g)
    names = [a["metadata"]["name"] for a in ir["axes"]]
    ax0 = f[g["axes"][0]]
    types = {k: type(v).__name__ for k, v in ax0.attrs.items()}
    schema = type(g.attrs["uhi_schema"]).__name__
with h5py.File(sys.argv[2]) as f:
    g = f["histogram"]
    v = g["storage/values"]
    comp, dtype, shape = v.compression, str(v.dtype), list(v.shape)
    h = hist.Hist(uhi.io.hdf5.read(g))
    md = dict(uhi.io.hdf5.read(g)["metadata"])
print(json.dumps({"names": names, "types": types, "schema": schema, "comp": comp, "dtype": dtype,
                  "shape": shape, "sum": float(h.values(flow=True).sum()), "md": md}))
`,
      "",
      [path, bigPath],
    );
    const r = JSON.parse(out);
    assert.deepEqual(
      r.names,
      axes.map((a) => a.metadata.name),
    );
    assert.equal(r.types.type, "str");
    assert.equal(r.types.lower, "float64");
    assert.equal(r.types.bins, "int64");
    assert.equal(r.schema, "int64");
    assert.equal(r.comp, "gzip");
    assert.equal(r.dtype, "float64");
    assert.deepEqual(r.shape, [5000]);
    assert.equal(
      r.sum,
      wide.reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(r.md, { name: "w", flag: 1, n: 3, x: 0.5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
