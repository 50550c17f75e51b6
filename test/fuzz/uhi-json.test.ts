// Fuzzing UHI JSON (uhiFromJson + histogramFromUhi, the gRPC door's Create and --hist-ir): mutated histograms of
// every axis kind and storage, dense and sparse, read back or fail with a HistError that says what is wrong, fast
// and without allocating for cells the text does not hold.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import {
  BooleanAxis,
  HistError,
  Histogram,
  histogramFromUhi,
  histogramToUhi,
  IntCategoryAxis,
  IntegerAxis,
  RegularAxis,
  StrCategoryAxis,
  uhiFromJson,
  uhiToJson,
  VariableAxis,
} from "../../src/engine/index.ts";
import { fuzz, mutateJson } from "../support/fuzz.ts";
import { repoRoot, sharedDir } from "../support/python.ts";

function seedTexts(): string[] {
  const out = [
    readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8"),
    readFileSync(resolve(sharedDir, "golden/haas/hist_ir.json"), "utf8"),
  ];
  const axesSets = [
    [new RegularAxis(4, 0, 1, { metadata: { name: "x" } }), new IntCategoryAxis([1, 5], { growth: true })],
    [new VariableAxis([0, 1, 3, 7], { circular: false }), new StrCategoryAxis(["a", "b"])],
    [new IntegerAxis(-2, 3, { growth: true }), new BooleanAxis()],
    [new RegularAxis(5, 1, 100, { transform: { kind: "log" } })],
    [new RegularAxis(3, 0, 9, { transform: { kind: "pow", power: 0.5 }, circular: false })],
    [new RegularAxis(6, 0, 6, { circular: true, underflow: false })],
    [],
  ];
  const storages = ["int", "double", "weighted", "mean", "weighted_mean"] as const;
  let k = 0;
  for (const axes of axesSets) {
    const storage = storages[k++ % storages.length];
    const h = new Histogram(axes, { storage });
    const cols = axes.map((a) =>
      a instanceof StrCategoryAxis
        ? ["a", "b", "a"]
        : a instanceof BooleanAxis
          ? [true, false, true]
          : [1, 2, 5],
    );
    const sample = storage === "mean" || storage === "weighted_mean" ? { sample: [1, 2, 3] } : {};
    h.fill(cols, { ...sample, ...(storage === "weighted" ? { weight: [0.5, 1, 2] } : {}) });
    out.push(uhiToJson(histogramToUhi(h)));
  }
  // sparse storage (uhi.io.to_sparse) and the file-level map form
  out.push(
    JSON.stringify({
      h: {
        uhi_schema: 1,
        axes: [
          { type: "regular", lower: 0, upper: 1, bins: 3, underflow: true, overflow: true, circular: false },
        ],
        storage: { type: "double", index: [[1, 3]], values: [2.0, 5.0] },
      },
    }),
  );
  return out;
}

const seeds = seedTexts();
const limits = { maxCells: 1_000_000 };

test("UHI JSON: mutated histograms read back or fail with a clear HistError", {
  timeout: 120_000,
}, async () => {
  for (const s of seeds) histogramFromUhi(uhiFromJson(s), limits); // every seed is valid
  const report = await fuzz(
    { name: "uhi-json", seed: 0x0511_2024, iterations: 60_000 },
    (r) => mutateJson(r, seeds),
    (text) => {
      let h: Histogram;
      try {
        h = histogramFromUhi(uhiFromJson(text, undefined, limits), limits);
      } catch (e) {
        if (!(e instanceof HistError)) throw e;
        if (e.message.length < 10) throw new Error(`undescriptive HistError: ${e.message}`);
        return e.code;
      }
      // What was read can be written again (the Snapshot and export paths).
      uhiToJson(histogramToUhi(h));
      return "ok";
    },
  );
  assert.ok((report.outcomes.get("ok") ?? 0) > 1000, "many mutations stay valid histograms");
});
