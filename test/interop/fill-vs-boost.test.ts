// The engine against boost-histogram: random histograms of every axis type, storage and dtype, filled on both
// sides with the same arrays (edges, ulps, NaN, ±inf included) and compared cell by cell with flow.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import {
  type Histogram,
  histogramFromUhi,
  histogramToUhi,
  STORAGE_KEYS,
  stringifyPyJson,
  uhiFromJson,
} from "../../src/engine/index.ts";
import { venvPython } from "../support/python.ts";
import { Rng } from "../support/random.ts";
import { type Case, randomCase, toFillValue } from "./cases.ts";
import { assertAxesMatch } from "./compare.ts";

function fillHistd(c: Case): { ok: true; h: Histogram } | { ok: false; error: string } {
  try {
    const h = histogramFromUhi(uhiFromJson(stringifyPyJson(c.uhi)));
    for (const f of c.fills) {
      h.fill(f.args.map(toFillValue), {
        weight: f.weight && toFillValue(f.weight),
        sample: f.sample && toFillValue(f.sample),
      });
    }
    return { ok: true, h };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}

function runBoost(cases: Case[]): ({ ok: true; uhi: unknown } | { ok: false; error: string })[] {
  const input = cases.map((c) => stringifyPyJson(c)).join("\n");
  const r = spawnSync(venvPython, [resolve(import.meta.dirname, "bh_fill.py")], {
    input,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => {
      const o = JSON.parse(l.replace(/\bNaN\b|-?\bInfinity\b/g, "null")) as { ok: boolean; error?: string };
      return o.ok ? { ok: true as const, uhi: l } : { ok: false as const, error: o.error ?? "" };
    });
}

function sameNumber(a: number, b: number, relTol: number): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return relTol > 0 && Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

test("fills match boost-histogram bin for bin, flow included", () => {
  const rng = new Rng(20261121);
  const cases = Array.from({ length: 400 }, () => randomCase(rng));
  const results = runBoost(cases);
  assert.equal(results.length, cases.length);
  let compared = 0;
  for (let i = 0; i < cases.length; i++) {
    const label = `case ${i}: ${stringifyPyJson(cases[i].uhi).slice(0, 400)}`;
    const ours = fillHistd(cases[i]);
    const theirs = results[i];
    if (!theirs.ok) {
      assert.equal(ours.ok, false, `${label}\nboost-histogram refused (${theirs.error}) but histd accepted`);
      continue;
    }
    assert.ok(ours.ok, `${label}\nhistd refused: ${!ours.ok && ours.error}`);
    const bhIr = uhiFromJson(extractUhi(theirs.uhi as string));
    const ourIr = histogramToUhi(ours.h);
    assertAxesMatch(ourIr.axes, bhIr.axes, label);
    const type = ourIr.storage.type;
    for (const key of STORAGE_KEYS[type]) {
      const a = ourIr.storage.data![key]!;
      const b = bhIr.storage.data![key]!;
      const exact =
        !(key === "values" || key === "variances") ||
        type === "int" ||
        type === "double" ||
        type === "weighted";
      const tol = exact ? 0 : 1e-12;
      for (let j = 0; j < a.length; j++)
        if (!sameNumber(a[j], b[j], key === "variances" && !exact ? 1e-9 : tol))
          assert.fail(
            `${label}\n${key}[${j}]: histd ${a[j]} != boost-histogram ${b[j]}\nhistd ${a.slice(0, 60)}\nbh    ${b.slice(0, 60)}`,
          );
    }
    compared++;
  }
  assert.ok(compared > cases.length * 0.8, `only ${compared} cases compared`);
});

/** The "uhi" member of the oracle's output line, as JSON text. */
function extractUhi(line: string): string {
  const start = line.indexOf('"uhi": ') + 7;
  return line.slice(start, line.lastIndexOf("}"));
}
