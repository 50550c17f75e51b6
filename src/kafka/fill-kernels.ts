// Fill kernels for the Kafka door's histograms, specialised for what the door fills: 32-bit integer columns
// (ev44's int32, ev42's uint32 time-of-flight and ids), counted without weights into float64 counts. Each kernel is
// one loop generated with its histogram's constants as literals (as src/engine/fast-fill.ts does) and is called
// straight, without the engine's per-fill planning. The bins are the engine axes' bins, exactly:
//  - integer inputs fall into the bins of integer thresholds: v is in bin b exactly when ceil(e[b]) <= v and
//    v < ceil(e[b + 1]), the last bin closed (up to floor(e[n])). Where one plain formula, trunc((v - a) / w)
//    or trunc((v - a) * r), gives that bin for every integer in range, the kernel uses it and reads no edges. The
//    formula is monotone in v (correctly rounded subtraction, division or product by a positive constant, then
//    truncation), so checking it at the first and the last integer of every bin proves it for all integers; this
//    is checked when the kernel is built. Otherwise the kernel walks the integer bounds from a guess (VariableAxis)
//    or runs numpy's own formula (NumpyRegularAxis), as the engine does.
//  - numpy's regular binning (hist1d) guesses trunc((v - lower) / (upper - lower) * bins) and corrects the guess
//    by one bin against the edges. When that guess is within one bin of the true bin for every integer in range
//    (checked the same way), numpy's result is the true bin, so the plain formula applies there too.
// test/kafka/fill-kernels.test.ts compares every kernel with the engine's fill over edge values and extremes.
import type { Ids } from "./histograms.ts";

/** The largest and smallest value an input column can hold (ev42: uint32; ev44: int32). */
const INPUT_MIN = -(2 ** 31);
const INPUT_MAX = 2 ** 32 - 1;

/** How one axis bins an integer: a source expression for bin p<k> of value v<k>, and the tables it reads. */
export interface IntAxis {
  /** Bins (positions 0 .. bins - 1). */
  readonly bins: number;
  /** Source binning value `v<k>` into `p<k>` (reading table `t<k>`), running `drop` when it has no bin. */
  code(k: string, drop: string): string;
  /** The table passed as t<k>, if any. */
  readonly table: Float64Array | undefined;
  /** How it bins (for tests): a plain formula, a walk over the integer bounds, numpy's formula, v - min, or none. */
  readonly kind: "formula" | "walk" | "numpy" | "integer" | "empty";
}

/** A number as a JS literal that parses back to the same double. */
function lit(x: number): string {
  if (Object.is(x, -0)) return "(-0)";
  return `(${String(x)})`;
}

/** The integer bin boundaries of increasing edges: integers in [t[b], t[b + 1]) are in bin b (last bin closed). */
function integerBounds(e: Float64Array): { lo: number; hi: number; t: Float64Array } {
  const n = e.length - 1;
  const t = new Float64Array(n + 1);
  for (let b = 0; b < n; b++) t[b] = Math.ceil(e[b]);
  t[n] = Math.floor(e[n]) + 1;
  // Only input values can occur: clamping keeps the checks and the arithmetic in exact integer doubles.
  const lo = Math.max(t[0], INPUT_MIN);
  const hi = Math.min(t[n] - 1, INPUT_MAX);
  return { lo, hi, t };
}

/**
 * Whether `f` (monotone non-decreasing in v) is within `slack` bins of the true bin at the first and last integer
 * of every bin that holds integers of [lo, hi], hence at every integer of [lo, hi].
 */
function holds(f: (v: number) => number, t: Float64Array, lo: number, hi: number, slack: number): boolean {
  const n = t.length - 1;
  for (let b = 0; b < n; b++) {
    const first = Math.max(t[b], lo);
    const last = Math.min(t[b + 1] - 1, hi);
    if (first > last) continue;
    const a = f(first);
    const z = f(last);
    if (!(a >= b - slack && a <= b + slack && z >= b - slack && z <= b + slack)) return false;
  }
  return true;
}

/** Source of a bin formula for the value named by its argument. */
type Formula = (v: string) => string;

/** A plain formula for the bin of every integer in [lo, hi], if one of the candidates is exact. */
function plainFormula(e: Float64Array, lo: number, hi: number, t: Float64Array): Formula | undefined {
  const n = e.length - 1;
  const a = e[0];
  const span = e[n] - e[0];
  const w = span / n;
  const r = n / span;
  if (!Number.isFinite(w) || !Number.isFinite(r) || !(w > 0) || !(r > 0)) return undefined;
  // Truncated exactly as the generated code truncates (see trunc()), then clamped to the last bin.
  const clamp = (x: number) => Math.min(n < 2 ** 30 ? x | 0 : Math.trunc(x), n - 1);
  const candidates: [Formula, (v: number) => number][] = [
    [(v) => `(${v} - ${lit(a)}) / ${lit(w)}`, (v) => clamp((v - a) / w)],
    [(v) => `((${v} - ${lit(a)}) / ${lit(span)}) * ${n}`, (v) => clamp(((v - a) / span) * n)],
    [(v) => `(${v} - ${lit(a)}) * ${lit(r)}`, (v) => clamp((v - a) * r)],
  ];
  for (const [src, f] of candidates) if (holds(f, t, lo, hi, 0)) return src;
  return undefined;
}

/** `((x) | 0)` when x lies in [0, max] with max < 2^30, else Math.trunc. */
function trunc(expr: string, max: number): string {
  return max < 2 ** 30 ? `((${expr}) | 0)` : `Math.trunc(${expr})`;
}

function plainCode(k: string, drop: string, lo: number, hi: number, n: number, formula: Formula): string {
  return `if (!(v${k} >= ${lit(lo)} && v${k} <= ${lit(hi)})) ${drop}
      let p${k} = ${trunc(formula(`v${k}`), n)}; if (p${k} > ${n - 1}) p${k} = ${n - 1};`;
}

/** An axis with no integer in range: every value is dropped. */
function emptyAxis(bins: number): IntAxis {
  return { bins, table: undefined, kind: "empty", code: (_, drop) => drop };
}

/** VariableAxis without flow bins over increasing edges: [e[b], e[b + 1]), the last bin closed. */
export function variableAxis(e: Float64Array): IntAxis {
  const n = e.length - 1;
  const { lo, hi, t } = integerBounds(e);
  if (lo > hi) return emptyAxis(n);
  const formula = plainFormula(e, lo, hi, t);
  if (formula !== undefined) return formulaAxis(n, lo, hi, formula);
  // A guess clamped into [0, n - 1], walked to the bin of the integer bounds (exact for any guess).
  const s = n / (e[n] - e[0]);
  const guess: Formula = (v) =>
    Number.isFinite(s) && s > 0 ? trunc(`(${v} - ${lit(e[0])}) * ${lit(s)}`, n) : "0";
  return {
    bins: n,
    table: t,
    kind: "walk",
    code: (k, drop) => `if (!(v${k} >= ${lit(lo)} && v${k} <= ${lit(hi)})) ${drop}
      let p${k} = ${guess(`v${k}`)}; if (p${k} > ${n - 1}) p${k} = ${n - 1};
      while (v${k} < t${k}[p${k}]) p${k}--; while (v${k} >= t${k}[p${k} + 1]) p${k}++;`,
  };
}

/** An axis whose bin is a plain formula of the value, proven for every integer in [lo, hi]. */
function formulaAxis(n: number, lo: number, hi: number, formula: Formula): IntAxis {
  return {
    bins: n,
    table: undefined,
    kind: "formula",
    code: (k, drop) => plainCode(k, drop, lo, hi, n, formula),
  };
}

/** NumpyRegularAxis (np.histogram with range=): edges linspace(lower, upper, bins + 1) as the axis has them. */
export function numpyAxis(bins: number, lower: number, upper: number, e: Float64Array): IntAxis {
  const n = bins;
  const { lo, hi, t } = integerBounds(e);
  if (lo > hi) return emptyAxis(n);
  const guess = (v: number) => {
    const i = Math.trunc(((v - lower) / (upper - lower)) * n);
    return i === n ? n - 1 : i;
  };
  // numpy corrects its guess by at most one bin: within one bin everywhere, its result is the true bin.
  const formula = holds(guess, t, lo, hi, 1) ? plainFormula(e, lo, hi, t) : undefined;
  if (formula !== undefined) return formulaAxis(n, lo, hi, formula);
  // NumpyRegularAxis.index, verbatim (as the engine's kernel runs it).
  return {
    bins: n,
    table: e,
    kind: "numpy",
    code: (k, drop) => `if (!(v${k} >= ${lit(lower)} && v${k} <= ${lit(upper)})) ${drop}
      let p${k} = ${trunc(`((v${k} - ${lit(lower)}) / ${lit(upper - lower)}) * ${n}`, n)};
      if (p${k} === ${n}) p${k}--;
      if (v${k} < t${k}[p${k}]) p${k}--;
      if (v${k} >= t${k}[p${k} + 1] && p${k} !== ${n - 1}) p${k}++;`,
  };
}

/** IntegerAxis(min, min + size) without flow bins: bin v - min (the engine's 32-bit bounds). */
export function integerAxis(min: number, size: number): IntAxis {
  return {
    bins: size,
    table: undefined,
    kind: "integer",
    code: (k, drop) => `const p${k} = v${k} - ${lit(min)}; if (!(p${k} >= 0 && p${k} < ${size})) ${drop}`,
  };
}

/**
 * Counts one message's events into `c`. `x` is the time-of-flight column, `y` the detector ids (either may be
 * unused). Columns of the same type always reach the same function (each type has its own compiled copy). Returns
 * false, counting nothing, for a column that is not an Int32Array or Uint32Array (the caller fills otherwise).
 */
export type FillKernel = (x: Ids, y: Ids, c: Float64Array) => boolean;

/** Whether a column holds 32-bit integers (the kernels' input). */
export function isIntColumn(v: unknown): v is Ids {
  return v instanceof Int32Array || v instanceof Uint32Array;
}

/** Which column each axis reads, and so which length the loop runs over. */
export type Inputs = "tof" | "det" | "both";

const built = new Map<string, (x: Ids, y: Ids, c: Float64Array, t0: unknown, t1: unknown) => void>();

/** A kernel counting into C-order cells of `axes` (reading tof for axis 0 and det for axis 1 when both). */
export function fillKernel(inputs: Inputs, axes: readonly IntAxis[]): FillKernel {
  const strides = axes.map((_, k) => axes.slice(k + 1).reduce((s, a) => s * a.bins, 1));
  const cols = inputs === "both" ? ["x", "y"] : inputs === "tof" ? ["x"] : ["y"];
  const body = axes
    .map((a, k) => `const v${k} = ${cols[k]}[i];\n${a.code(String(k), "continue;")}`)
    .join("\n");
  const j = axes.map((_, k) => (strides[k] === 1 ? `p${k}` : `p${k} * ${strides[k]}`)).join(" + ");
  const n = inputs === "det" ? "y.length" : "x.length";
  const src = `const n = ${n};
    for (let i = 0; i < n; i++) {
      ${body}
      c[${j}]++;
    }`;
  const tables = axes.map((a) => a.table);
  // One compiled copy per column type keeps each copy's element loads monomorphic.
  const copies = new Map<string, (x: Ids, y: Ids, c: Float64Array, t0: unknown, t1: unknown) => void>();
  const copy = (type: string) => {
    let f = copies.get(type);
    if (!f) {
      const key = `${type}\n${src}`;
      f = built.get(key);
      if (!f) {
        // The source holds only numeric literals and fixed identifiers, never user text.
        f = new Function("x", "y", "c", "t0", "t1", src) as (
          x: Ids,
          y: Ids,
          c: Float64Array,
          t0: unknown,
          t1: unknown,
        ) => void;
        built.set(key, f);
      }
      copies.set(type, f);
    }
    return f;
  };
  const t0 = tables[0];
  const t1 = tables[1];
  return (x, y, c) => {
    if ((inputs !== "det" && !isIntColumn(x)) || (inputs !== "tof" && !isIntColumn(y))) return false;
    const type =
      inputs === "both"
        ? `${x.constructor.name},${y.constructor.name}`
        : (inputs === "det" ? y : x).constructor.name;
    copy(type)(x, y, c, t0, t1);
    return true;
  };
}

/** One histogram of a fused kernel: the columns it reads and its axes (C-order cells). */
export interface KernelPart {
  readonly inputs: Inputs;
  readonly axes: readonly IntAxis[];
}

/** Counts one message into several histograms (cells `cs[h]` of part h); see fusedKernel. */
export type FusedKernel = (x: Ids, y: Ids, cs: readonly Float64Array[]) => boolean;

type FusedCopy = (x: Ids, y: Ids, cs: readonly Float64Array[], ts: readonly unknown[]) => void;

/**
 * One loop over a message's events filling every part: each event's ToF and id are read once and binned for each
 * histogram in turn (measured 2-14% faster than one loop per histogram for a 1000-bin hist1d and a 100x100 hist2d).
 * Returns false, counting nothing, when the columns are not 32-bit integers or when parts read columns of
 * different lengths (the caller then fills each histogram by itself, which applies the length rules).
 */
export function fusedKernel(parts: readonly KernelPart[]): FusedKernel {
  const readsX = parts.some((p) => p.inputs !== "det");
  const readsY = parts.some((p) => p.inputs !== "tof");
  const tables: unknown[] = [];
  const unpack: string[] = [];
  const blocks = parts.map((part, h) => {
    const strides = part.axes.map((_, k) => part.axes.slice(k + 1).reduce((s, a) => s * a.bins, 1));
    const cols = part.inputs === "both" ? ["x", "y"] : part.inputs === "tof" ? ["x"] : ["y"];
    unpack.push(`const c${h} = cs[${h}];`);
    const code = part.axes.map((a, k) => {
      const id = `${h}_${k}`;
      if (a.table) {
        unpack.push(`const t${id} = ts[${tables.length}];`);
        tables.push(a.table);
      }
      return `const v${id} = ${cols[k]}i;\n${a.code(id, `break h${h};`)}`;
    });
    const j = part.axes
      .map((_, k) => (strides[k] === 1 ? `p${h}_${k}` : `p${h}_${k} * ${strides[k]}`))
      .join(" + ");
    return `h${h}: {\n${code.join("\n")}\nc${h}[${j}]++;\n}`;
  });
  const src = `${unpack.join("\n")}
    const n = ${readsX ? "x.length" : "y.length"};
    for (let i = 0; i < n; i++) {
      ${readsX ? "const xi = x[i];" : ""}
      ${readsY ? "const yi = y[i];" : ""}
      ${blocks.join("\n")}
    }`;
  const copies = new Map<string, FusedCopy>();
  return (x, y, cs) => {
    if ((readsX && !isIntColumn(x)) || (readsY && !isIntColumn(y))) return false;
    if (readsX && readsY && x.length !== y.length) return false;
    const type = `${x.constructor.name},${y.constructor.name}`;
    let f = copies.get(type);
    if (!f) {
      const key = `fused ${type}\n${src}`;
      f = built.get(key) as unknown as FusedCopy | undefined;
      if (!f) {
        // The source holds only numeric literals and fixed identifiers, never user text.
        f = new Function("x", "y", "cs", "ts", src) as FusedCopy;
        built.set(key, f as never);
      }
      copies.set(type, f);
    }
    f(x, y, cs, tables);
    return true;
  };
}

/** Ids counted per sorting round (two Int32 buffers of this many entries: 2 x 2 MiB). */
const ROUND = 1 << 19;
/** Cells per bucket: 2^14 float64 counts, 128 KiB (32 pages), fit the L2 cache and the first-level TLB's reach. */
const BUCKET_SHIFT = 14;
let list = new Int32Array(0);
let sorted = new Int32Array(0);

type Collect = (y: Ids, s: number, e: number, list: Int32Array, k: number, cnt: Int32Array) => number;

/**
 * Counts the ids of many messages into the cells [min, min + size) of an image too large for the caches (the
 * dethist): ids are first sorted by bucket of 2^shift cells (a counting sort), then counted bucket by bucket, so the
 * scattered increments of a batch touch one page after another instead of a random page of megabytes each (whose
 * cache and TLB misses dominate the direct scatter). Same counts as counting each id in turn. Measured on the
 * bench's 1M-pixel image (ids of 21 messages per batch): 2^14 cells per bucket 1.4x faster than the direct scatter,
 * 2^9 (one page) and 2^16 1.2x, 2^17 1.1x (the sort costs about what the sorted increments save at the extremes).
 */
export function bucketedIdKernel(
  min: number,
  size: number,
): (cols: readonly Ids[], c: Float64Array) => boolean {
  const shift = BUCKET_SHIFT;
  const buckets = Math.ceil(size / 2 ** shift);
  const cnt = new Int32Array(buckets + 1);
  const src = `let k = k0;
    for (let i = s; i < e; i++) {
      const p = y[i] - ${lit(min)};
      if (!(p >= 0 && p < ${size})) continue;
      list[k++] = p;
      cnt[(p >> ${shift}) + 1]++;
    }
    return k;`;
  const copies = new Map<string, Collect>();
  const collect = (y: Ids): Collect => {
    const type = y.constructor.name;
    let f = copies.get(type);
    if (!f) {
      const key = `${type}\n${src}`;
      f = built.get(key) as unknown as Collect | undefined;
      if (!f) {
        f = new Function("y", "s", "e", "list", "k0", "cnt", src) as Collect;
        built.set(key, f as never);
      }
      copies.set(type, f);
    }
    return f;
  };
  const flush = (k: number, c: Float64Array) => {
    for (let b = 1; b <= buckets; b++) cnt[b] += cnt[b - 1];
    const l = list;
    const o = sorted;
    for (let i = 0; i < k; i++) {
      const p = l[i];
      o[cnt[p >> shift]++] = p;
    }
    for (let i = 0; i < k; i++) c[o[i]]++;
    cnt.fill(0);
  };
  return (cols, c) => {
    let total = 0;
    for (const y of cols) {
      if (!isIntColumn(y)) return false;
      total += y.length;
    }
    const cap = Math.min(total, ROUND);
    if (list.length < cap) {
      list = new Int32Array(cap);
      sorted = new Int32Array(cap);
    }
    let k = 0;
    cnt.fill(0);
    for (const y of cols) {
      const f = collect(y);
      for (let s = 0; s < y.length; ) {
        const e = Math.min(y.length, s + cap - k);
        k = f(y, s, e, list, k, cnt);
        s = e;
        if (k === cap) {
          flush(k, c);
          k = 0;
        }
      }
    }
    if (k > 0) flush(k, c);
    return true;
  };
}
