// UHI JSON both ways against hist / boost-histogram: Python writes random filled histograms of every axis type,
// option and storage (NaN / -0.0 / Infinity included), histd reads and writes them back, and hist must load
// histd's text equal to the original; plus the seed haas file, the file-level map and sparse forms, and
// histograms histd filled itself against boost-histogram filled with the same data.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import {
  type Histogram,
  histogramFromUhi,
  histogramToUhi,
  stringifyPyJson,
  type UhiAxis,
  uhiFromJson,
  uhiToJson,
} from "../../src/engine/index.ts";
import { runPython, sharedDir, venvPython } from "../support/python.ts";
import { Rng } from "../support/random.ts";
import { type Case, randomCase, toFillValue } from "./cases.ts";

const ORACLE = resolve(import.meta.dirname, "uhi_roundtrip.py");

function oracle(args: string[], input = ""): string {
  const r = spawnSync(venvPython, [ORACLE, ...args], { input, encoding: "utf8", maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** histd: read UHI JSON text, build the histogram, write it back. */
function histdRoundTrip(text: string, name?: string, indent = 0): string {
  return uhiToJson(histogramToUhi(histogramFromUhi(uhiFromJson(text, name))), { indent });
}

/** Asks the oracle whether each histd text loads in hist equal to its original; returns the failures. */
function check(pairs: { orig: string; histd: string; label: string }[]): string[] {
  const input = pairs.map((p) => JSON.stringify({ orig: p.orig, histd: p.histd })).join("\n");
  const out = oracle(["check"], input).trim().split("\n");
  assert.equal(out.length, pairs.length);
  const failures: string[] = [];
  out.forEach((line, i) => {
    const r = JSON.parse(line) as { ok: boolean; why: string | null };
    if (!r.ok)
      failures.push(
        `${pairs[i].label}: ${r.why}\n  orig:  ${pairs[i].orig.slice(0, 700)}\n  histd: ${pairs[i].histd.slice(0, 700)}`,
      );
  });
  return failures;
}

test("(a) Python-written histograms of every axis and storage come back equal through histd", () => {
  const lines = oracle(["make", "20261122", "400"]).trim().split("\n");
  assert.equal(lines.length, 400);
  const rng = new Rng(7);
  const pairs = lines.map((orig, i) => {
    let histd: string;
    try {
      histd = histdRoundTrip(orig, undefined, rng.pick([0, 0, 2]));
    } catch (e) {
      histd = `histd failed: ${String(e)}`;
    }
    return { orig, histd, label: `histogram ${i}` };
  });
  const refused = pairs.filter((p) => p.histd.startsWith("histd failed"));
  assert.deepEqual(
    refused.map((p) => `${p.label}: ${p.histd}\n  ${p.orig.slice(0, 400)}`),
    [],
    "histd refused files hist wrote",
  );
  // The generator covers what it should (a broken generator would make this test vacuous).
  const all = lines.join("\n");
  for (const needle of [
    '"orig_type": "Integer", "growth": true',
    '"transform": "log"',
    '"transform": "sqrt"',
    '"transform": "pow"',
    '"circular": true',
    '"type": "category_int"',
    '"type": "category_str"',
    '"type": "boolean"',
    '"type": "variable"',
    '"flow": true',
    '"type": "weighted_mean"',
    '"type": "mean"',
    '"type": "int"',
    "NaN",
    "-0.0",
    "Infinity",
    "-Infinity",
    '"axes": []',
  ])
    assert.ok(all.includes(needle), `generator never produced ${needle}`);
  const failures = check(pairs);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${pairs.length} histograms differ`);
});

test("(a) histd's repr of Python-written histograms matches hist's axis lines", () => {
  const lines = oracle(["make", "99", "150"]).trim().split("\n");
  const reprs = runPython(
    `import sys, json, hist, uhi.io.json
for line in sys.stdin:
    h = hist.Hist(json.loads(line, object_hook=uhi.io.json.object_hook))
    print(json.dumps([repr(ax) for ax in h.axes]))`,
    lines.join("\n"),
  )
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as string[]);
  const bad: string[] = [];
  lines.forEach((line, i) => {
    const ours = histogramFromUhi(uhiFromJson(line)).axes.map((a) => a.repr());
    if (JSON.stringify(ours) !== JSON.stringify(reprs[i]))
      bad.push(`histd ${JSON.stringify(ours)}\nhist  ${JSON.stringify(reprs[i])}`);
  });
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${lines.length} reprs differ`);
});

test("(b) the seed haas file loads and its repr matches hist's", () => {
  const path = resolve(sharedDir, "golden/haas/hist_ir.json");
  const text = readFileSync(path, "utf8");
  const h = histogramFromUhi(uhiFromJson(text));
  const theirs = runPython(
    `import sys, json, hist, uhi.io.json
h = hist.Hist(json.loads(open(sys.argv[1]).read(), object_hook=uhi.io.json.object_hook))
print(json.dumps({"repr": repr(h), "type": h.storage_type.__name__, "cells": int(h.view(flow=True).size)}))`,
    "",
    [path],
  );
  const ref = JSON.parse(theirs) as { repr: string; type: string; cells: number };
  const axisLines = (s: string) =>
    s.split("\n").filter((l) => /^ {2}[A-Z]\w*\(/.test(l) && !l.includes("storage="));
  assert.deepEqual(axisLines(h.repr()), axisLines(ref.repr));
  assert.equal(axisLines(ref.repr).length, 3);
  // hist's storage line is "storage=Weight()) # Sum: ..."; histd's ends at the storage.
  const storageLine = (s: string) =>
    s
      .split("\n")
      .find((l) => l.includes("storage="))!
      .replace(/\).*$/, ")");
  assert.equal(storageLine(h.repr()), storageLine(ref.repr));
  assert.equal(h.cells, ref.cells);
  const back = check([{ orig: text, histd: histdRoundTrip(text, undefined, 2), label: "hist_ir.json" }]);
  assert.deepEqual(back, []);
});

test("(c) the file-level map form, the single form and sparse storage are read", () => {
  const out = runPython(
    `import json, hist, numpy as np, uhi.io, uhi.io.json
def dump(x): return json.dumps(x, default=uhi.io.json.default)
h1 = hist.Hist(hist.axis.Regular(2, 0, 2, name="x", label="x [GeV]"),
               hist.axis.StrCategory(["data", "mc"], name="dataset", label="dataset"),
               storage=hist.storage.Weight(), name="h")
h1.fill(x=[0.5, 1.5, 1.5, 3.0], dataset="data", weight=[1.0, 2.0, 0.5, 1.0])
h1.fill(x=-1.0, dataset="other", weight=2.0)
h2 = hist.Hist(hist.axis.Integer(-3, 4, name="i"), hist.axis.IntCategory([5, 1], growth=True, name="c"),
               hist.axis.Boolean(name="b"), storage=hist.storage.Mean())
rng = np.random.default_rng(3)
h2.fill(i=rng.integers(-5, 6, 300), c=rng.integers(0, 8, 300), b=rng.integers(0, 2, 300) == 1,
        sample=rng.normal(size=300))
h3 = hist.Hist(hist.axis.Variable([0, 1, 3, 7], name="v"), storage=hist.storage.WeightedMean())
h3.fill(v=[0.5, 2, 2, 8], sample=[1, 2, 3, 4], weight=[1, 2, 0.5, 3])
print(dump({"single": dump(h1), "map1": dump({"only": h1}), "map3": dump({"a": h1, "b": h2, "c": h3}),
            "ref": {"a": dump(h1), "b": dump(h2), "c": dump(h3)},
            "sparse": {k: dump(uhi.io.to_sparse(h._to_uhi_())) for k, h in (("a", h1), ("b", h2), ("c", h3))}}))`,
  );
  const d = JSON.parse(out) as {
    single: string;
    map1: string;
    map3: string;
    ref: Record<string, string>;
    sparse: Record<string, string>;
  };
  // A sparse file's empty cells are zeros (uhi.io.from_sparse), so its reference is uhi's own dense reading of it.
  const denseOfSparse = runPython(
    `import sys, json, uhi.io, uhi.io.json
for line in sys.stdin:
    print(json.dumps(uhi.io.from_sparse(json.loads(json.loads(line), object_hook=uhi.io.json.object_hook)),
                     default=uhi.io.json.default))`,
    ["a", "b", "c"].map((k) => JSON.stringify(d.sparse[k])).join("\n"),
  )
    .trim()
    .split("\n");
  assert.match(d.sparse.b, /"index": \[\[/, "the oracle wrote sparse storage");
  const pairs = [
    { orig: d.ref.a, histd: histdRoundTrip(d.single), label: "single form" },
    { orig: d.ref.a, histd: histdRoundTrip(d.map1), label: "map with one entry" },
    ...["a", "b", "c"].map((k) => ({
      orig: d.ref[k],
      histd: histdRoundTrip(d.map3, k),
      label: `map entry ${k}`,
    })),
    ...["a", "b", "c"].map((k, i) => ({
      orig: denseOfSparse[i],
      histd: histdRoundTrip(d.sparse[k]),
      label: `sparse ${k}`,
    })),
  ];
  assert.deepEqual(check(pairs), []);
  // §1.12's worked example, cell by cell (flat C order).
  const ex = histogramToUhi(histogramFromUhi(uhiFromJson(d.single)));
  assert.deepEqual(Array.from(ex.storage.data!.values!), [0, 0, 2, 1, 0, 0, 2.5, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(ex.storage.data!.variances!), [0, 0, 4, 1, 0, 0, 4.25, 0, 0, 1, 0, 0]);
  // A map of several histograms needs a name.
  assert.throws(() => uhiFromJson(d.map3), { code: "INVALID_ARGUMENT" });
  assert.throws(() => uhiFromJson(d.map3, "nope"), { code: "INVALID_ARGUMENT" });
});

test("(d) histograms histd filled and wrote load equal to boost-histogram filled with the same data", () => {
  const rng = new Rng(424242);
  // log and pow transforms: histd's edges come from V8's log/exp/pow, which may differ from glibc in the last
  // ulp (see regular.ts); the rebuilt axis then differs from bh's, so those cases are left to fill-vs-boost.
  const libm = (a: UhiAxis) =>
    ["log", "pow"].includes(String(a.writer_info?.["boost-histogram"]?.transform ?? ""));
  const cases: Case[] = [];
  while (cases.length < 250) {
    const c = randomCase(rng);
    if (!c.uhi.axes.some(libm)) cases.push(c);
  }
  const lines: string[] = [];
  const kept: Case[] = [];
  for (const c of cases) {
    let h: Histogram;
    try {
      h = histogramFromUhi(uhiFromJson(stringifyPyJson(c.uhi)));
      for (const f of c.fills)
        h.fill(f.args.map(toFillValue), {
          weight: f.weight && toFillValue(f.weight),
          sample: f.sample && toFillValue(f.sample),
        });
    } catch {
      continue; // refusals are compared with boost-histogram's in fill-vs-boost.test.ts
    }
    kept.push(c);
    lines.push(stringifyPyJson({ case: c, histd: uhiToJson(histogramToUhi(h)) }));
  }
  assert.ok(kept.length > 200, `only ${kept.length} cases filled`);
  assert.ok(
    kept.some((c) => c.uhi.storage.type === "weighted_mean") &&
      kept.some((c) => c.uhi.storage.type === "int"),
  );
  const results = oracle(["fillcheck"], lines.join("\n")).trim().split("\n");
  assert.equal(results.length, kept.length);
  const bad = results
    .map((l, i) => [JSON.parse(l) as { ok: boolean; why: string }, i] as const)
    .filter(([r]) => !r.ok)
    .map(([r, i]) => `case ${i}: ${r.why}\n  ${stringifyPyJson(kept[i].uhi).slice(0, 500)}`);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${kept.length} differ`);
});
