// Fill inputs: typed arrays, plain arrays or scalars, checked up front so that a fill that fails has changed
// nothing. A Column turns a chunk of its values into float64 (or strings) for the axes' index loops.
import type { ValueKind } from "./axes/axis.ts";
import { InvalidArgumentError } from "./errors.ts";

export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

export type FillValue =
  | NumericArray
  | readonly number[]
  | readonly string[]
  | readonly boolean[]
  | number
  | bigint
  | string
  | boolean;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** A checked fill argument: a length (undefined for a broadcast scalar) and a chunk reader. */
export interface Column {
  readonly length: number | undefined;
  /** float64 values of [start, start+n); may return a view of the source instead of writing into scratch. */
  floats(start: number, n: number, scratch: Float64Array): Float64Array;
  strings(start: number, n: number): readonly string[];
}

const isFloatArray = (v: unknown): v is Float64Array | Float32Array =>
  v instanceof Float64Array || v instanceof Float32Array;
const isBigArray = (v: unknown): v is BigInt64Array | BigUint64Array =>
  v instanceof BigInt64Array || v instanceof BigUint64Array;

function numericColumn(src: ArrayLike<number>): Column {
  return {
    length: src.length,
    floats(start, n, scratch) {
      if (src instanceof Float64Array) return src.subarray(start, start + n);
      for (let i = 0; i < n; i++) scratch[i] = src[start + i];
      return scratch;
    },
    strings: () => {
      throw new Error("unreachable: numeric column read as strings");
    },
  };
}

function bigColumn(src: BigInt64Array | BigUint64Array): Column {
  return {
    length: src.length,
    floats(start, n, scratch) {
      for (let i = 0; i < n; i++) scratch[i] = Number(src[start + i]);
      return scratch;
    },
    strings: () => {
      throw new Error("unreachable: numeric column read as strings");
    },
  };
}

function scalarColumn(x: number): Column {
  return {
    length: undefined,
    floats(_start, n, scratch) {
      scratch.fill(x, 0, n);
      return scratch;
    },
    strings: () => {
      throw new Error("unreachable: numeric column read as strings");
    },
  };
}

function stringColumn(src: readonly string[] | string): Column {
  return {
    length: typeof src === "string" ? undefined : src.length,
    floats: () => {
      throw new Error("unreachable: string column read as floats");
    },
    strings(start, n) {
      return typeof src === "string" ? new Array<string>(n).fill(src) : src.slice(start, start + n);
    },
  };
}

function checkIntRange(x: number, what: string): void {
  if (!Number.isInteger(x))
    throw new InvalidArgumentError(`${what}: only integer values are supported, got ${x}`);
  if (x < INT32_MIN || x > INT32_MAX)
    throw new InvalidArgumentError(`${what}: ${x} does not fit a 32-bit integer`);
}

/** Validates `v` for an axis taking `kind` values and returns its column. `what` names it in errors. */
export function axisColumn(v: FillValue, kind: ValueKind, what: string): Column {
  if (kind === "str") {
    if (typeof v === "string") return stringColumn(v);
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return stringColumn(v as string[]);
    throw new InvalidArgumentError(`${what}: a string category axis takes strings, got ${describe(v)}`);
  }
  if (typeof v === "string" || (Array.isArray(v) && v.some((s) => typeof s === "string")))
    throw new InvalidArgumentError(
      `${what}: a ${kind === "int" ? "integer" : "numeric"} axis cannot take strings`,
    );
  if (kind === "float") return numberColumn(v, what);
  // Integer-valued axes (integer, category_int, boolean) refuse floating-point input, as boost-histogram does.
  if (isFloatArray(v))
    throw new InvalidArgumentError(
      `${what}: only integer values are supported for integer axes, got ${describe(v)}`,
    );
  if (isBigArray(v)) {
    for (const x of v) checkIntRange(Number(x), what);
    return bigColumn(v);
  }
  if (ArrayBuffer.isView(v)) {
    // uint32 is the one integer typed array that can exceed int32 (boost-histogram refuses those values).
    if (v instanceof Uint32Array) for (const x of v) checkIntRange(x, what);
    return numericColumn(v as Int32Array);
  }
  if (Array.isArray(v)) {
    const nums = (v as (number | boolean)[]).map((x) => (typeof x === "boolean" ? Number(x) : x));
    for (const x of nums) checkIntRange(x, what);
    return numericColumn(nums);
  }
  const x = typeof v === "boolean" ? Number(v) : Number(v as number | bigint);
  checkIntRange(x, what);
  return scalarColumn(x);
}

/** A float64 column (float axes, weight, sample): any numeric input, converted as numpy's astype(float64). */
export function numberColumn(v: FillValue, what: string): Column {
  if (typeof v === "string") throw new InvalidArgumentError(`${what}: expected numbers, got a string`);
  if (isBigArray(v)) return bigColumn(v);
  if (ArrayBuffer.isView(v)) return numericColumn(v as Float64Array);
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === "number" || typeof x === "boolean"))
      throw new InvalidArgumentError(`${what}: expected numbers, got ${describe(v)}`);
    return numericColumn((v as (number | boolean)[]).map(Number));
  }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint")
    return scalarColumn(Number(v));
  throw new InvalidArgumentError(`${what}: expected numbers, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return `an array of ${v.length > 0 ? typeof v[0] : "nothing"}`;
  return typeof v;
}
