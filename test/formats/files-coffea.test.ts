// .coffea files written from UHI IR must load in Python (lz4.frame + cloudpickle, as coffea.util.load does) as a
// hist.Hist identical to the histogram the IR came from.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeCoffea } from "../../src/formats/files/index.ts";
import { runPython } from "../support/python.ts";
import { checkFiles, makeCases } from "./files-cases.ts";

const LOAD = `
import cloudpickle, lz4.frame
def load(path):
    with lz4.frame.open(path) as f:
        return cloudpickle.load(f)
`;

test("randomized histograms of every axis and storage type round-trip through .coffea", () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-coffea-"));
  try {
    const originals = join(dir, "originals.pkl");
    const cases = makeCases(originals, 20260101, 20);
    assert.equal(cases.length, 100);
    const files = cases.map((c, i) => {
      const path = join(dir, `h${i}.coffea`);
      writeFileSync(path, encodeCoffea(c.ir));
      return path;
    });
    assert.deepEqual(checkFiles(originals, files, LOAD), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the check fails on a wrong file (the test can fail)", () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-coffea-"));
  try {
    const originals = join(dir, "originals.pkl");
    const cases = makeCases(originals, 7, 1);
    const files = cases.map((c, i) => {
      const ir = structuredClone(c.ir);
      const first = Object.values(ir.storage.data ?? {})[0];
      if (first && first.length > 0) first[0] += 1;
      const path = join(dir, `h${i}.coffea`);
      writeFileSync(path, encodeCoffea(ir));
      return path;
    });
    const flagged = new Set(checkFiles(originals, files, LOAD).map((p) => p.split(":")[0]));
    assert.equal(flagged.size, cases.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("plain pickle.loads reads it too, and large histograms compress", () => {
  const n = 1_000_000;
  const values = new Float64Array(n + 2);
  for (let i = 0; i < n; i += 97) values[i + 1] = i % 5;
  const bytes = encodeCoffea({
    uhi_schema: 1,
    axes: [
      { type: "regular", lower: 0, upper: 1, bins: n, underflow: true, overflow: true, circular: false },
    ],
    storage: { type: "double", data: { values } },
  });
  assert.ok(bytes.length < values.byteLength / 10, `${bytes.length} bytes`);
  const out = runPython(
    "import pickle, sys, lz4.frame\nh = pickle.loads(lz4.frame.decompress(sys.stdin.buffer.read()))\nv = h.view(flow=True)\nprint(type(h).__name__, v.dtype, v.shape[0], float(v.sum()))",
    bytes,
  ).trim();
  const sum = values.reduce((a, b) => a + b, 0);
  assert.equal(out, `Hist float64 ${n + 2} ${sum.toFixed(1)}`);
});
