// UHI JSON as Python writes and reads it: bare NaN / Infinity / -Infinity tokens and -0.0 (json.dumps does emit
// them, in mean and weighted_mean files), nested C-order lists for storage arrays, and floats that stay floats.
import { InvalidArgumentError, ResourceExhaustedError } from "./errors.ts";
import { DEFAULT_LIMITS, type Limits } from "./histogram.ts";
import type { MetadataValue, StorageKey, UhiAxis, UhiHistogram } from "./uhi-types.ts";
import { STORAGE_KEYS, uhiAxisExtent } from "./uhi-types.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const LITERALS: [string, Json][] = [
  ["true", true],
  ["false", false],
  ["null", null],
];

/** JSON.parse, plus Python's NaN, Infinity and -Infinity tokens. */
export function parsePyJson(text: string): Json {
  let i = 0;
  const fail = (msg: string): never => {
    throw new InvalidArgumentError(`invalid JSON at offset ${i}: ${msg}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const NUM = /-?(?:Infinity|(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|NaN/y;
  const value = (depth: number): Json => {
    if (depth > 256) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const o: Record<string, Json> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const k = str();
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        Object.defineProperty(o, k, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return o;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return a;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    for (const [word, v] of LITERALS)
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (!m) return fail(`unexpected ${c === undefined ? "end of input" : `'${c}'`}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i++];
      if (c === undefined) fail("unterminated string");
      if (c === "\\") i++;
      else if (c === '"') break;
    }
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("bad string");
    }
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing characters");
  return v;
}

/** A float as Python's json.dumps writes it: always with a '.' or exponent, NaN/Infinity tokens, -0.0. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (Object.is(x, -0)) return "-0.0";
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Text that goes into the output verbatim (pre-formatted numbers and arrays). */
class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON.stringify with Python's tokens for NaN, ±Infinity and -0.0, and `indent` spaces per level. */
export function stringifyPyJson(v: unknown, indent = 0): string {
  return dumpJson(v, " ".repeat(indent));
}

function dumpJson(v: unknown, step: string, indent = ""): string {
  if (v instanceof RawJson) return v.text;
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : pyFloat(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return JSON.stringify(v);
  const inner = indent + step;
  const nl = step ? `\n${inner}` : "";
  const end = step ? `\n${indent}` : "";
  const sep = `,${nl || " "}`;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => x === null || typeof x !== "object"))
      return `[${v.map((x) => dumpJson(x, "")).join(", ")}]`;
    return `[${nl}${v.map((x) => dumpJson(x, step, inner)).join(sep)}${end}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  return `{${nl}${entries.map(([k, x]) => `${JSON.stringify(k)}: ${dumpJson(x, step, inner)}`).join(sep)}${end}}`;
}

/** A C-order array as nested JSON lists; floats keep their '.0' unless the storage is integer. */
function nestedJson(
  flat: Float64Array,
  shape: readonly number[],
  ints: boolean,
  dim = 0,
  offset = 0,
): string {
  const num = ints ? (x: number) => String(x) : pyFloat;
  if (shape.length === 0) return num(flat[0]);
  const n = shape[dim];
  if (dim === shape.length - 1) return `[${Array.from(flat.subarray(offset, offset + n), num).join(", ")}]`;
  const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const parts = Array.from({ length: n }, (_, i) =>
    nestedJson(flat, shape, ints, dim + 1, offset + i * stride),
  );
  return `[${parts.join(", ")}]`;
}

/** The UHI IR as JSON text that json.loads + uhi.io.json.object_hook + hist.Hist load back equal. */
export function uhiToJson(ir: UhiHistogram, opts: { indent?: number } = {}): string {
  const shape = ir.axes.map(uhiAxisExtent);
  const storage: Record<string, unknown> = { type: ir.storage.type };
  for (const [k, arr] of Object.entries(ir.storage.data ?? {}))
    storage[k] = new RawJson(nestedJson(arr, shape, ir.storage.type === "int"));
  const doc = {
    uhi_schema: 1,
    writer_info: ir.writer_info,
    axes: ir.axes.map(axisJson),
    storage,
    metadata: ir.metadata,
  };
  return dumpJson(doc, " ".repeat(opts.indent ?? 0));
}

function axisJson(a: UhiAxis): Record<string, unknown> {
  if (a.type === "regular") {
    // Regular bounds are floats in Python; Integer axes (orig_type) keep integer bounds.
    if (a.writer_info?.["boost-histogram"]?.orig_type === "Integer") return { ...a };
    return { ...a, lower: new RawJson(pyFloat(a.lower)), upper: new RawJson(pyFloat(a.upper)) };
  }
  if (a.type === "variable") return { ...a, edges: new RawJson(`[${a.edges.map(pyFloat).join(", ")}]`) };
  return { ...a };
}

/** Flattens nested lists in C order, checking the shape. Missing trailing dimensions of size 0 are allowed
 * (Python's JSON collapses them). The shape is checked before the output is allocated, so a text cannot make
 * histd allocate for cells it does not hold. */
function flatten(v: Json, shape: readonly number[], what: string): Float64Array {
  const cells = shape.reduce((a, b) => a * b, 1);
  if (cells === 0) return new Float64Array(0);
  const check = (x: Json, dim: number): void => {
    if (dim === shape.length) {
      if (typeof x !== "number")
        throw new InvalidArgumentError(`UHI: ${what} must hold numbers, got ${JSON.stringify(x)}`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim])
      throw new InvalidArgumentError(`UHI: ${what} must have shape [${shape.join(", ")}]`);
    for (const y of x) check(y, dim + 1);
  };
  check(v, 0);
  const out = new Float64Array(cells);
  let n = 0;
  const walk = (x: Json, dim: number): void => {
    if (dim === shape.length) out[n++] = x as number;
    else for (const y of x as Json[]) walk(y, dim + 1);
  };
  walk(v, 0);
  return out;
}

const AXIS_TYPES = new Set<unknown>(["regular", "variable", "category_int", "category_str", "boolean"]);

/** Scalar fields each axis type must carry (uhi's schema requires `circular` too; it is read as false if absent). */
const REQUIRED_AXIS_FIELDS: Record<UhiAxis["type"], [string, "number" | "boolean"][]> = {
  regular: [
    ["lower", "number"],
    ["upper", "number"],
    ["bins", "number"],
    ["underflow", "boolean"],
    ["overflow", "boolean"],
  ],
  variable: [
    ["underflow", "boolean"],
    ["overflow", "boolean"],
  ],
  category_int: [["flow", "boolean"]],
  category_str: [["flow", "boolean"]],
  boolean: [],
};

function isHistogramLike(o: Json): o is { [k: string]: Json } {
  return o !== null && typeof o === "object" && !Array.isArray(o) && ("uhi_schema" in o || "axes" in o);
}

/**
 * Reads UHI JSON: one histogram, or the file-level map {name: histogram} with exactly one entry (or `name`).
 * A histogram of more than `limits.maxCells` cells is refused (RESOURCE_EXHAUSTED) before its storage is read.
 */
export function uhiFromJson(text: string, name?: string, limits: Limits = DEFAULT_LIMITS): UhiHistogram {
  let doc = parsePyJson(text);
  if (!isHistogramLike(doc)) {
    if (doc === null || typeof doc !== "object" || Array.isArray(doc))
      throw new InvalidArgumentError("UHI: expected a JSON object");
    const keys = Object.keys(doc);
    const key = name ?? (keys.length === 1 ? keys[0] : undefined);
    if (key === undefined || !isHistogramLike(doc[key]))
      throw new InvalidArgumentError(
        `UHI: expected a histogram or a map with one histogram, got keys ${keys.join(", ")}`,
      );
    doc = doc[key];
  }
  const o = doc as { [k: string]: Json };
  const axes = o.axes as unknown as UhiAxis[];
  if (!Array.isArray(axes)) throw new InvalidArgumentError("UHI: 'axes' must be an array");
  for (const a of axes) {
    if (a === null || typeof a !== "object")
      throw new InvalidArgumentError("UHI: each axis must be an object");
    if (!AXIS_TYPES.has(a.type))
      throw new InvalidArgumentError(`UHI: unknown axis type '${String((a as { type: unknown }).type)}'`);
    for (const [key, kind] of REQUIRED_AXIS_FIELDS[a.type]) {
      const v = (a as unknown as Record<string, unknown>)[key];
      if (typeof v !== kind)
        throw new InvalidArgumentError(
          `UHI: ${a.type} axis needs '${key}' (${kind}), got ${JSON.stringify(v)}`,
        );
    }
    if ((a.type === "category_int" || a.type === "category_str") && !Array.isArray(a.categories))
      throw new InvalidArgumentError(`UHI: ${a.type} needs a 'categories' array`);
    if (a.type === "variable" && !Array.isArray(a.edges))
      throw new InvalidArgumentError("UHI: variable needs an 'edges' array");
  }
  const st = o.storage as { [k: string]: Json } | undefined;
  if (!st || typeof st !== "object" || typeof st.type !== "string")
    throw new InvalidArgumentError("UHI: missing storage type");
  const type = st.type as UhiHistogram["storage"]["type"];
  const keys = (STORAGE_KEYS as Record<string, readonly StorageKey[]>)[type];
  if (!keys) throw new InvalidArgumentError(`UHI: unknown storage type '${type}'`);
  const shape = axes.map((a) => {
    const e = uhiAxisExtent(a);
    if (!Number.isInteger(e) || e < 0)
      throw new InvalidArgumentError("UHI: malformed axis (bins/edges/categories)");
    return e;
  });
  const cells = shape.reduce((a, b) => a * b, 1);
  if (cells > limits.maxCells)
    throw new ResourceExhaustedError(
      `UHI: histogram of ${cells} cells exceeds the limit of ${limits.maxCells} cells`,
    );
  const present = keys.filter((k) => k in st);
  let data: Partial<Record<StorageKey, Float64Array>> | undefined;
  if (present.length > 0) {
    if (present.length !== keys.length)
      throw new InvalidArgumentError(
        `UHI: ${type} storage needs all of ${keys.join(", ")} (has ${present.join(", ")})`,
      );
    data = {};
    if ("index" in st) {
      const index = st.index as Json[];
      for (const k of keys)
        data[k] = fromSparse(index, st[k] as Json[], shape, type === "weighted_mean" && k === "variances");
    } else for (const k of keys) data[k] = flatten(st[k], shape, k);
  }
  if (shape.length === 0 && data)
    for (const k of keys) if (data[k]!.length !== 1) throw new InvalidArgumentError("UHI: bad 0-D storage");
  const ir: UhiHistogram = { uhi_schema: o.uhi_schema as 1, axes, storage: { type, data } };
  if (o.metadata !== undefined) ir.metadata = o.metadata as Record<string, MetadataValue>;
  if (o.writer_info !== undefined) ir.writer_info = o.writer_info as UhiHistogram["writer_info"];
  return ir;
}

function fromSparse(index: Json[], values: Json[], shape: readonly number[], nanFill: boolean): Float64Array {
  if (
    !Array.isArray(index) ||
    index.length !== shape.length ||
    !Array.isArray(values) ||
    index.some((row) => !Array.isArray(row) || row.length !== values.length)
  )
    throw new InvalidArgumentError("UHI: sparse 'index' must have one row per axis, as long as the values");
  if (values.some((v) => typeof v !== "number"))
    throw new InvalidArgumentError("UHI: sparse values must be numbers");
  const cells = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(cells).fill(nanFill ? Number.NaN : 0);
  for (let j = 0; j < values.length; j++) {
    let flat = 0;
    for (let k = 0; k < shape.length; k++) {
      const p = (index[k] as number[])[j];
      if (!Number.isInteger(p) || p < 0 || p >= shape[k])
        throw new InvalidArgumentError("UHI: sparse index out of range");
      flat = flat * shape[k] + p;
    }
    out[flat] = values[j] as number;
  }
  return out;
}
