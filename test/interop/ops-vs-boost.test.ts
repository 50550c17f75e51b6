// Operations against boost-histogram: add (with growing-category union), project, slice / rebin / pick / sum
// (UHI indexing) and the values / variances / counts views, on random filled histograms.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import {
  type AxisAction,
  addInto,
  counts,
  type FillValue,
  type Histogram,
  histogramFromUhi,
  histogramToUhi,
  IntegerAxis,
  project,
  reduce,
  STORAGE_KEYS,
  stringifyPyJson,
  uhiFromJson,
  uhiToJson,
  values,
  variances,
} from "../../src/engine/index.ts";
import { venvPython } from "../support/python.ts";
import { Rng } from "../support/random.ts";
import { type Case, type ColumnSpec, randomCase } from "./cases.ts";
import { assertAxesMatch } from "./compare.ts";

function fillValue(c: ColumnSpec): FillValue {
  if (c.kind === "scalar") return c.value;
  if (c.dtype === "str") return c.values as string[];
  if (c.dtype === "bool") return c.values as boolean[];
  if (c.dtype === "float32") return Float32Array.from(c.values as number[]);
  return Float64Array.from(c.values as number[]).map((x) => x) as Float64Array;
}

function build(c: Case): Histogram | undefined {
  try {
    const h = histogramFromUhi(uhiFromJson(stringifyPyJson(c.uhi)));
    for (const f of c.fills)
      h.fill(
        f.args.map((a, k) =>
          h.axes[k].valueKind === "int" && a.kind === "array"
            ? Int32Array.from(a.values as number[])
            : fillValue(a),
        ),
        { weight: f.weight && fillValue(f.weight), sample: f.sample && fillValue(f.sample) },
      );
    return h;
  } catch {
    return undefined;
  }
}

type OracleOut = {
  ok: boolean;
  uhi?: unknown;
  views?: Record<string, number[] | null>;
  scalar?: boolean;
  error?: string;
};

function oracle(reqs: object[]): { parsed: OracleOut; raw: string }[] {
  const r = spawnSync(venvPython, [resolve(import.meta.dirname, "bh_ops.py")], {
    input: reqs.map((q) => stringifyPyJson(q)).join("\n"),
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((raw) => ({ raw, parsed: JSON.parse(raw.replace(/\bNaN\b|-?\bInfinity\b/g, "null")) as OracleOut }));
}

function assertSameHist(ours: Histogram, raw: string, label: string): void {
  const theirs = uhiFromJson(raw.slice(raw.indexOf('"uhi": ') + 7, raw.lastIndexOf("}")));
  const mine = histogramToUhi(ours);
  assertAxesMatch(mine.axes, theirs.axes, label);
  for (const k of STORAGE_KEYS[mine.storage.type]) {
    const a = Array.from(mine.storage.data![k]!);
    const b = Array.from(theirs.storage.data![k]!);
    assert.equal(a.length, b.length, `${label}: ${k} length`);
    a.forEach((x, i) => {
      const y = b[i];
      // Mean variances: boost reads an undefined variance (one entry) back as M2 = NaN and spreads it through
      // merges; histd keeps M2 (and reads it as 0), deliberately, so there boost's NaN stands against a number.
      const nanSpread = k === "variances" && mine.storage.type.includes("mean") && Number.isNaN(y);
      const same =
        nanSpread ||
        Object.is(x, y) ||
        x === y ||
        (Number.isNaN(x) && Number.isNaN(y)) ||
        Math.abs(x - y) <= 1e-12 * Math.abs(y);
      assert.ok(same, `${label}: ${k}[${i}] histd ${x} != boost-histogram ${y}`);
    });
  }
}

function randomActions(rng: Rng, h: Histogram): AxisAction[] {
  return h.axes.map((a): AxisAction => {
    const discrete = a.type === "category_int" || a.type === "category_str" || a.type === "boolean";
    const r = rng.next();
    if (r < 0.3 || a.circular || a.growth || a.type === "boolean")
      return r < 0.15 ? { kind: "sum" } : { kind: "keep" };
    if (r < 0.45) return { kind: "pick", bin: rng.int(0, a.size - 1) };
    if (r < 0.55) return { kind: "sum", start: 0, stop: Math.max(1, a.size - 1) };
    const start = rng.int(0, Math.max(0, a.size - 2));
    const stop = rng.int(start + 1, a.size);
    const rebinnable = !discrete && !(a instanceof IntegerAxis);
    const merge = rebinnable ? Math.min(stop - start, rng.pick([1, 1, 2, 3])) : 1;
    return { kind: "slice", start, stop, merge };
  });
}

test("add, project, reduce and views match boost-histogram", () => {
  const rng = new Rng(7);
  const reqs: object[] = [];
  const checks: ((o: { parsed: OracleOut; raw: string }) => void)[] = [];
  for (let n = 0; n < 150; n++) {
    const c = randomCase(rng);
    const h = build(c);
    if (!h) continue;
    const uhi = JSON.parse(
      uhiToJson(histogramToUhi(h))
        .replace(/\bNaN\b/g, '"NaN"')
        .replace(/-?\bInfinity\b/g, '"inf"'),
    );
    void uhi;
    const text = uhiToJson(histogramToUhi(h));
    const label = `case ${n} ${h.repr()}`;
    // add: the same definition filled with other data (growing categories grow differently)
    const c2 = randomCase(new Rng(n + 1000), { storage: c.uhi.storage.type });
    const other = build({ uhi: c.uhi, fills: c2.fills.map((f) => ({ ...f, args: c.fills[0].args })) });
    if (other) {
      reqs.push({ uhiText: text, op: "add", otherText: uhiToJson(histogramToUhi(other)) });
      checks.push((o) => {
        const mine = h.clone();
        if (!o.parsed.ok)
          return assert.throws(() => addInto(mine, other), `${label}: bh refused add (${o.parsed.error})`);
        addInto(mine, other);
        assertSameHist(mine, o.raw, `${label} add`);
      });
    }
    if (h.rank >= 2) {
      const axes = [rng.int(0, h.rank - 1)];
      if (rng.chance(0.5)) axes.push((axes[0] + 1) % h.rank);
      reqs.push({ uhiText: text, op: "project", axes });
      checks.push((o) => {
        assert.ok(o.parsed.ok, `${label}: bh refused project: ${o.parsed.error}`);
        assertSameHist(project(h, axes), o.raw, `${label} project ${axes}`);
      });
    }
    const actions = randomActions(rng, h);
    reqs.push({ uhiText: text, op: "reduce", actions });
    checks.push((o) => {
      const l = `${label} reduce ${JSON.stringify(actions)}`;
      let mine: Histogram | undefined;
      let err: unknown;
      try {
        mine = reduce(h, actions);
      } catch (e) {
        err = e;
      }
      if (!o.parsed.ok) return assert.ok(err, `${l}: bh refused (${o.parsed.error}) but histd did not`);
      assert.ok(mine, `${l}: histd refused: ${err}`);
      if (o.parsed.scalar) return assert.equal(mine.rank, 0, l);
      assertSameHist(mine, o.raw, l);
    });
    const flow = rng.chance(0.5);
    reqs.push({ uhiText: text, op: "views", flow });
    checks.push((o) => {
      const v = o.parsed.views!;
      const ours = {
        values: values(h, flow).data,
        variances: variances(h, flow)?.data,
        counts: counts(h, flow).data,
      };
      for (const key of ["values", "variances", "counts"] as const) {
        const theirs = v[key];
        const mine = ours[key];
        if (theirs === null) {
          assert.equal(mine, undefined, `${label}: ${key} should be unknown`);
          continue;
        }
        assert.ok(mine, `${label}: ${key} missing`);
        Array.from(mine).forEach((x, i) => {
          const y = theirs[i];
          const ok = y === null ? !Number.isFinite(x) : Math.abs(x - y) <= 1e-12 * Math.abs(y) || x === y;
          assert.ok(ok, `${label}: ${key}[${i}] flow=${flow} histd ${x} != bh ${y}`);
        });
      }
    });
  }
  const outs = oracle(reqs);
  assert.equal(outs.length, checks.length);
  checks.forEach((check, i) => {
    check(outs[i]);
  });
  assert.ok(checks.length > 300, `only ${checks.length} checks`);
});
