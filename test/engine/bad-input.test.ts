// Bad input: every refusal is a typed HistError (InvalidArgumentError or ResourceExhaustedError) with a clear
// message, the histogram is left exactly as it was (storage bytes, axes, growth axes that would have grown), and
// a valid fill works afterwards. Also malformed UHI JSON.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BooleanAxis,
  type FillValue,
  HistError,
  Histogram,
  histogramFromUhi,
  IntCategoryAxis,
  IntegerAxis,
  InvalidArgumentError,
  RegularAxis,
  ResourceExhaustedError,
  StrCategoryAxis,
  stringifyPyJson,
  uhiFromJson,
  VariableAxis,
} from "../../src/engine/index.ts";
import { runPython } from "../support/python.ts";

/** Everything observable about a histogram: axes (UHI form, repr, extent), storage bytes, metadata. */
function snapshot(h: Histogram): string {
  return stringifyPyJson({
    axes: h.axes.map((a) => ({ uhi: a.toUhi(), repr: a.repr(), extent: a.extent, size: a.size })),
    type: h.storage.type,
    fields: h.storage.fields.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64")),
    cells: h.cells,
    metadata: h.metadata,
    varianceKnown: h.varianceKnown,
  });
}

type Code = "INVALID_ARGUMENT" | "RESOURCE_EXHAUSTED";

function refuses(h: Histogram, action: () => void, code: Code, message: RegExp, label: string): void {
  const before = snapshot(h);
  let err: unknown;
  try {
    action();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof HistError, `${label}: expected a HistError, got ${String(err)}`);
  assert.ok(
    code === "INVALID_ARGUMENT" ? err instanceof InvalidArgumentError : err instanceof ResourceExhaustedError,
    `${label}: wrong class ${err.name}`,
  );
  assert.equal(err.code, code, label);
  assert.match(err.message, message, label);
  assert.equal(snapshot(h), before, `${label}: the histogram changed`);
}

/** x: regular, i: growing integer, c: growing int category, s: growing str category, b: boolean. */
function makeHist(storage: "weighted" | "mean" = "weighted", maxCells = 2 ** 31): Histogram {
  const h = new Histogram(
    [
      new RegularAxis(10, 0, 1, { metadata: { name: "x" } }),
      new IntegerAxis(0, 3, { growth: true, metadata: { name: "i" } }),
      new IntCategoryAxis([1, 2], { growth: true, metadata: { name: "c" } }),
      new StrCategoryAxis(["a"], { growth: true, metadata: { name: "s" } }),
      new BooleanAxis({ metadata: { name: "b" } }),
    ],
    { storage, limits: { maxCells } },
  );
  const sample = storage === "mean" ? { sample: [1, 2, 3] } : {};
  h.fill(
    [Float64Array.of(0.1, 0.5, 2), Int32Array.of(0, 1, 2), [1, 2, 1], ["a", "a", "a"], [true, false, true]],
    {
      weight: [1, 2, 3],
      ...sample,
    },
  );
  return h;
}

/** A valid fill that grows every growing axis: it must work after each refusal. */
function validFill(h: Histogram): void {
  const before = snapshot(h);
  const sample = h.storage.type === "mean" ? { sample: 4 } : {};
  h.fill([[0.25, 0.75], Int32Array.of(-1, 5), [3, 1], ["z", "a"], [true, true]], sample);
  assert.notEqual(snapshot(h), before, "a valid fill changes the histogram");
}

const f64 = (...x: number[]) => Float64Array.from(x);
const i32 = (...x: number[]) => Int32Array.from(x);

test("bad fills are refused with a typed error and change nothing", () => {
  const h = makeHist();
  const ok = (over: Partial<Record<"x" | "i" | "c" | "s" | "b", FillValue>> = {}): FillValue[] => {
    // Growing values on every growing axis, so a partial fill would be visible in the axes.
    const base: Record<string, FillValue> = {
      x: f64(0.5, 0.7),
      i: i32(7, -4),
      c: [9, 8],
      s: ["q", "r"],
      b: [true, false],
    };
    return ["x", "i", "c", "s", "b"].map((k) => (k in over ? over[k as keyof typeof over]! : base[k]));
  };
  const cases: [string, () => void, Code, RegExp][] = [
    ["too few arguments", () => h.fill(ok().slice(0, 4)), "INVALID_ARGUMENT", /5 argument/],
    ["too many arguments", () => h.fill([...ok(), f64(1, 2)]), "INVALID_ARGUMENT", /5 argument/],
    ["mismatched array lengths", () => h.fill(ok({ x: f64(0.1, 0.2, 0.3) })), "INVALID_ARGUMENT", /length/],
    ["mismatched lengths, last axis", () => h.fill(ok({ b: [true] })), "INVALID_ARGUMENT", /length/],
    ["weight length", () => h.fill(ok(), { weight: f64(1, 2, 3) }), "INVALID_ARGUMENT", /weight/],
    [
      "weight array with all-scalar axes",
      () => h.fill([0.5, 1, 1, "a", true], { weight: f64(1, 2) }),
      "INVALID_ARGUMENT",
      /weight.*scalar/,
    ],
    [
      "sample for a weighted storage",
      () => h.fill(ok(), { sample: f64(1, 2) }),
      "INVALID_ARGUMENT",
      /sample/,
    ],
    ["string to a regular axis", () => h.fill(ok({ x: ["0.5", "0.7"] })), "INVALID_ARGUMENT", /'x'.*string/],
    ["scalar string to a regular axis", () => h.fill(ok({ x: "0.5" })), "INVALID_ARGUMENT", /'x'.*string/],
    [
      "null in a numeric array",
      () => h.fill(ok({ x: [0.5, null] as unknown as number[] })),
      "INVALID_ARGUMENT",
      /'x'/,
    ],
    ["floats to an Integer axis", () => h.fill(ok({ i: f64(1, 2) })), "INVALID_ARGUMENT", /'i'.*integer/],
    ["float32 to an Integer axis", () => h.fill(ok({ i: Float32Array.of(1, 2) })), "INVALID_ARGUMENT", /'i'/],
    ["non-integer to an Integer axis", () => h.fill(ok({ i: [1, 2.5] })), "INVALID_ARGUMENT", /'i'.*2\.5/],
    ["NaN to an Integer axis", () => h.fill(ok({ i: [Number.NaN, 1] })), "INVALID_ARGUMENT", /'i'.*NaN/],
    ["scalar float to an Integer axis", () => h.fill(ok({ i: 1.5 })), "INVALID_ARGUMENT", /'i'.*1\.5/],
    [
      "int64 beyond int32 to an Integer axis",
      () => h.fill(ok({ i: BigInt64Array.of(1n, 2n ** 31n) })),
      "INVALID_ARGUMENT",
      /'i'.*32-bit/,
    ],
    [
      "int64 below int32 to an Integer axis",
      () => h.fill(ok({ i: BigInt64Array.of(-(2n ** 31n) - 1n, 0n) })),
      "INVALID_ARGUMENT",
      /'i'.*32-bit/,
    ],
    [
      "uint32 beyond int32",
      () => h.fill(ok({ i: Uint32Array.of(2 ** 31, 0) })),
      "INVALID_ARGUMENT",
      /'i'.*32-bit/,
    ],
    [
      "uint32 beyond int32 to a Boolean axis",
      () => h.fill(ok({ b: Uint32Array.of(1, 2 ** 32 - 1) })),
      "INVALID_ARGUMENT",
      /'b'.*32-bit/,
    ],
    ["floats to an IntCategory axis", () => h.fill(ok({ c: f64(1, 2) })), "INVALID_ARGUMENT", /'c'.*integer/],
    ["NaN to an IntCategory axis", () => h.fill(ok({ c: [1, Number.NaN] })), "INVALID_ARGUMENT", /'c'.*NaN/],
    ["non-integer to an IntCategory axis", () => h.fill(ok({ c: [1, 0.5] })), "INVALID_ARGUMENT", /'c'/],
    ["2^31 to an IntCategory axis", () => h.fill(ok({ c: [1, 2 ** 31] })), "INVALID_ARGUMENT", /'c'.*32-bit/],
    [
      "Infinity to an IntCategory axis",
      () => h.fill(ok({ c: Number.POSITIVE_INFINITY })),
      "INVALID_ARGUMENT",
      /'c'/,
    ],
    ["string to an IntCategory axis", () => h.fill(ok({ c: ["1", "2"] })), "INVALID_ARGUMENT", /'c'.*string/],
    ["numbers to a StrCategory axis", () => h.fill(ok({ s: [1, 2] })), "INVALID_ARGUMENT", /'s'.*string/],
    ["scalar number to a StrCategory axis", () => h.fill(ok({ s: 1 })), "INVALID_ARGUMENT", /'s'.*string/],
    ["typed array to a StrCategory axis", () => h.fill(ok({ s: i32(1, 2) })), "INVALID_ARGUMENT", /'s'/],
    ["floats to a Boolean axis", () => h.fill(ok({ b: f64(0, 1) })), "INVALID_ARGUMENT", /'b'.*integer/],
    ["non-integer to a Boolean axis", () => h.fill(ok({ b: [0.5, 1] })), "INVALID_ARGUMENT", /'b'/],
    [
      "strings to a Boolean axis",
      () => h.fill(ok({ b: ["true", "false"] })),
      "INVALID_ARGUMENT",
      /'b'.*string/,
    ],
    [
      "fillNamed: unknown axis name",
      () => h.fillNamed({ x: 0.5, i: 1, c: 1, s: "a", b: true, nope: 1 }),
      "INVALID_ARGUMENT",
      /unknown axis name 'nope'/,
    ],
    [
      "fillNamed: missing axis",
      () => h.fillNamed({ x: f64(0.5), i: i32(9), c: [7], s: ["new"] }),
      "INVALID_ARGUMENT",
      /missing .*'b'/,
    ],
    [
      "fillNamed: bad weight",
      () => h.fillNamed({ x: f64(0.5), i: i32(9), c: [7], s: ["new"], b: [true], weight: "heavy" }),
      "INVALID_ARGUMENT",
      /weight/,
    ],
  ];
  for (const [label, action, code, message] of cases) {
    refuses(h, action, code, message, label);
    validFill(h);
  }
});

test("mean storages need sample=, and only they take it", () => {
  const h = makeHist("mean");
  const args: FillValue[] = [f64(0.5), i32(9), [7], ["new"], [true]];
  refuses(h, () => h.fill(args), "INVALID_ARGUMENT", /needs sample/, "missing sample");
  refuses(h, () => h.fill(args, { sample: f64(1, 2) }), "INVALID_ARGUMENT", /sample/, "sample length");
  refuses(h, () => h.fill(args, { sample: ["1"] }), "INVALID_ARGUMENT", /sample/, "string sample");
  validFill(h);
});

test("too large: at creation, and growth beyond the limit mid-fill", () => {
  // 1e13 cells (80 TB of doubles).
  let err: unknown;
  try {
    new Histogram([new RegularAxis(10_000_000, 0, 1), new RegularAxis(1_000_000 - 2, 0, 1)]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ResourceExhaustedError, String(err));
  assert.equal(err.code, "RESOURCE_EXHAUSTED");
  assert.match(err.message, /cells.*limit/);
  assert.throws(
    () => new Histogram([new RegularAxis(100, 0, 1)], { storage: "mean", limits: { maxCells: 50 } }),
    { code: "RESOURCE_EXHAUSTED" },
  );

  // Growth past maxCells, found in the third chunk of a long fill: nothing may be filled or grown.
  const h = makeHist("weighted", 20_000);
  const n = 50_000;
  const x = new Float64Array(n).fill(0.5);
  const iv = new Int32Array(n).fill(1);
  for (let k = 0; k < 100; k++) iv[k] = 3 + (k % 5); // ordinary growth early on
  iv[40_000] = 5_000; // the one that would exceed the limit
  const c = new Array<number>(n).fill(2);
  c[10] = 77;
  const s = new Array<string>(n).fill("a");
  s[20_000] = "grown";
  const b = new Uint8Array(n).fill(1);
  refuses(
    h,
    () => h.fill([x, iv, c, s, b]),
    "RESOURCE_EXHAUSTED",
    /exceeds the limit of 20000 cells/,
    "growth",
  );
  refuses(
    h,
    () => h.fillNamed({ x, i: iv, c, s, b }),
    "RESOURCE_EXHAUSTED",
    /limit/,
    "growth through fillNamed",
  );
  iv[40_000] = 1;
  validFill(h);
  const before = h.axes[1].extent;
  h.fill([x, iv, c, s, b]);
  assert.ok(h.axes[1].extent > before, "the same fill without the outlier grows and fills");
});

test("malformed UHI JSON is refused with InvalidArgumentError", () => {
  const good = runPython(`import json, hist, uhi.io.json
h = hist.Hist(hist.axis.Regular(4, 0, 1, name="x"), hist.axis.StrCategory(["a"], name="s"), storage=hist.storage.Weight())
h.fill(x=[0.1, 0.2, 2], s=["a", "b", "a"], weight=[1, 2, 3])
print(json.dumps(h, default=uhi.io.json.default))`).trim();
  const valid = () => histogramFromUhi(uhiFromJson(good));
  const h = valid();
  assert.equal(h.cells, 12);
  const doc = () => JSON.parse(good) as Doc;
  const edit = (f: (d: Doc) => void): string => {
    const d = doc();
    f(d);
    return JSON.stringify(d);
  };
  const bad: [string, string, RegExp][] = [
    ["empty text", "", /JSON/],
    ["single quotes", "{'uhi_schema': 1}", /JSON/],
    ["trailing comma", good.replace(/}$/, ",}"), /JSON/],
    ["truncated", good.slice(0, good.length / 2), /JSON/],
    ["bare word", good.replace('"type": "weighted"', '"type": weighted'), /JSON/],
    ["NaNx token", good.replace("0.0", "NaNx"), /JSON/],
    ["trailing garbage", `${good} x`, /JSON/],
    ["unterminated string", '{"uhi_schema": 1, "axes": [], "storage": {"type": "int', /JSON/],
    ["deep nesting", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, /JSON|nest/],
    ["deep nesting of objects", `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`, /JSON|nest/],
    ["not an object", "[1, 2, 3]", /UHI/],
    ["uhi_schema 2", edit((d) => (d.uhi_schema = 2)), /uhi_schema/],
    ["uhi_schema as a string", edit((d) => (d.uhi_schema = "1")), /uhi_schema/],
    ["no uhi_schema", edit((d) => delete d.uhi_schema), /uhi_schema/],
    ["unknown axis type", edit((d) => (d.axes[0].type = "polar")), /axis type 'polar'/],
    ["axis not an object", edit((d) => (d.axes[0] = 3)), /axis/],
    ["axes not an array", edit((d) => (d.axes = {})), /axes/],
    ["missing axes", edit((d) => delete d.axes), /axes|map/],
    ["unknown storage type", edit((d) => (d.storage.type = "complex")), /storage type 'complex'/],
    ["missing storage", edit((d) => delete d.storage), /storage/],
    ["missing variances", edit((d) => delete d.storage.variances), /variances/],
    ["values of the wrong shape", edit((d) => d.storage.values.pop()), /values.*shape/],
    ["values one dimension short", edit((d) => (d.storage.values = d.storage.values.flat())), /values/],
    ["values hold a string", edit((d) => (d.storage.values[0][0] = "1")), /values/],
    ["values hold null", edit((d) => (d.storage.values[0][0] = null)), /values/],
    ["missing regular bins", edit((d) => delete d.axes[0].bins), /bins|malformed/],
    ["negative bins", edit((d) => (d.axes[0].bins = -6)), /bins|malformed/],
    ["missing regular underflow", edit((d) => delete d.axes[0].underflow), /underflow/],
    ["missing categories", edit((d) => delete d.axes[1].categories), /categories/],
    [
      "duplicate categories",
      edit((d) => {
        d.axes[1].categories = ["a", "a"];
        d.storage = { type: "weighted" };
      }),
      /duplicate/,
    ],
    [
      "variable with one edge",
      edit((d) => {
        d.axes[0] = { type: "variable", edges: [1], underflow: true, overflow: true, circular: false };
      }),
      /edge|shape/,
    ],
    [
      "sparse index out of range",
      edit((d) => {
        d.storage = { type: "weighted", index: [[99], [0]], values: [1], variances: [1] };
      }),
      /sparse/,
    ],
    [
      "sparse index of the wrong rank",
      edit((d) => {
        d.storage = { type: "weighted", index: [[1]], values: [1], variances: [1] };
      }),
      /sparse/,
    ],
    [
      "a huge histogram",
      edit((d) => {
        d.axes[0].bins = 1e7;
        d.axes[1] = {
          type: "regular",
          lower: 0,
          upper: 1,
          bins: 1e7,
          underflow: true,
          overflow: true,
          circular: false,
        };
        d.storage = { type: "double" };
      }),
      /cells|limit/,
    ],
  ];
  const before = snapshot(h);
  for (const [label, text, message] of bad) {
    let err: unknown;
    try {
      histogramFromUhi(uhiFromJson(text));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof HistError, `${label}: expected a HistError, got ${String(err)}`);
    assert.match(err.message, message, label);
    assert.ok(err.code === "INVALID_ARGUMENT" || err.code === "RESOURCE_EXHAUSTED", label);
    if (label !== "a huge histogram") assert.equal(err.code, "INVALID_ARGUMENT", label);
    // Nothing else is disturbed: the loaded histogram is intact, a valid file still loads, and fills work.
    assert.equal(snapshot(h), before);
    assert.equal(valid().cells, 12);
  }
  h.fill([
    [0.3, 0.9],
    ["a", "a"],
  ]);
  assert.notEqual(snapshot(h), before);
  // The same texts are refused by Python too (except those only histd's limits refuse).
  const pyRefusals = runPython(
    `import sys, json, hist, uhi.io._common, uhi.io.json
for line in sys.stdin:
    text = json.loads(line)
    try:
        ir = json.loads(text, object_hook=uhi.io.json.object_hook)
        uhi.io._common._check_uhi_schema_version(ir["uhi_schema"])  # what uhi.io's readers check
        hist.Hist(ir)
        print("accepted")
    except BaseException as e:  # noqa: BLE001 - RecursionError too
        print("refused")`,
    bad
      .filter(([label]) => !label.startsWith("deep nesting") && label !== "a huge histogram")
      .map(([, text]) => JSON.stringify(text))
      .join("\n"),
  )
    .trim()
    .split("\n");
  const accepted = bad
    .filter(([label]) => !label.startsWith("deep nesting") && label !== "a huge histogram")
    .filter((_, i) => pyRefusals[i] === "accepted")
    .map(([label]) => label);
  // hist is lenient where histd is strict on these (it casts or does not check); everything else it refuses.
  assert.deepEqual(
    accepted.filter((l) => !LENIENT_IN_PYTHON.has(l)),
    [],
  );
});

// biome-ignore lint/suspicious/noExplicitAny: free-form edits of parsed JSON, to break it on purpose
type Doc = Record<string, any>;

/** Texts hist accepts that histd refuses on purpose: numpy casts "1" and None into the float arrays, and bh
 * takes a duplicate category (whose second bin can never be filled). */
const LENIENT_IN_PYTHON = new Set<string>([
  "values hold a string",
  "values hold null",
  "duplicate categories",
]);

test("axes refuse bad definitions with InvalidArgumentError", () => {
  const bad: [string, () => unknown][] = [
    ["regular with 0 bins", () => new RegularAxis(0, 0, 1)],
    ["regular with lower == upper", () => new RegularAxis(3, 1, 1)],
    ["regular with NaN bound", () => new RegularAxis(3, Number.NaN, 1)],
    ["regular with infinite bound", () => new RegularAxis(3, 0, Number.POSITIVE_INFINITY)],
    ["log regular from 0", () => new RegularAxis(3, 0, 1, { transform: { kind: "log" } })],
    ["growing circular regular", () => new RegularAxis(3, 0, 1, { growth: true, circular: true })],
    ["variable with one edge", () => new VariableAxis([1])],
    ["variable not increasing", () => new VariableAxis([1, 1, 2])],
    ["variable with NaN edge", () => new VariableAxis([0, Number.NaN, 2])],
    ["integer upper <= lower", () => new IntegerAxis(3, 3)],
    ["integer beyond int32", () => new IntegerAxis(0, 2 ** 31)],
    ["integer non-integer bounds", () => new IntegerAxis(0.5, 3)],
    ["duplicate int category", () => new IntCategoryAxis([1, 1])],
    ["non-integer int category", () => new IntCategoryAxis([1.5])],
    ["empty non-growing category", () => new StrCategoryAxis([])],
    [
      "duplicate axis names",
      () =>
        new Histogram([
          new BooleanAxis({ metadata: { name: "a" } }),
          new BooleanAxis({ metadata: { name: "a" } }),
        ]),
    ],
  ];
  for (const [label, make] of bad) assert.throws(make, (e) => e instanceof InvalidArgumentError, label);
});
