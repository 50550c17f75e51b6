// Builder helpers shared by the encoders. Encoders call the npm Builder in the same order as the Python
// package (ess-streaming-data-types) so that, for the same inputs, the bytes usually match exactly.
import { Builder } from "flatbuffers";
import { FormatError } from "./errors.ts";

export type NumericArray =
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/**
 * A builder sized for the message up front (so it never regrows and the result wastes little memory), with
 * forceDefaults on as in the Python serialisers: zero scalars are still written, which matches their bytes.
 */
export function newBuilder(payloadBytes: number): Builder {
  // A multiple of 8 keeps the finished message 8-aligned inside its ArrayBuffer, so decoding it is zero-copy.
  const size = Math.ceil((payloadBytes + 512) / 8) * 8;
  const b = new Builder(size);
  b.forceDefaults(true);
  return b;
}

/** The finished message: a view onto the builder's buffer (no copy). */
export function finish(b: Builder, root: number, schema: string): Uint8Array {
  b.finish(root, schema);
  return b.asUint8Array();
}

/** Upper bound on the bytes a string adds to the message, for sizing the builder. */
export function stringBytes(s: string | undefined): number {
  return s === undefined ? 0 : s.length * 3 + 8;
}

/** Bytes a vector adds to the message, for sizing the builder. */
export function vectorBytes(a: { byteLength: number } | undefined): number {
  return a === undefined ? 0 : a.byteLength + 16;
}

interface BuilderInternals {
  space: number;
}

/**
 * Writes a numeric vector with one memcpy. The npm Builder only offers per-element adds (millions of calls
 * for an event message), so this reserves the space with startVector and copies the bytes in directly,
 * which is what flatbuffers-python's CreateNumpyVector does. It needs the builder's private `space` cursor.
 */
export function numericVector(b: Builder, a: NumericArray): number {
  const size = a.BYTES_PER_ELEMENT;
  b.startVector(size, a.length, size);
  const internals = b as unknown as BuilderInternals;
  if (typeof internals.space !== "number")
    throw new Error("flatbuffers Builder internals changed: no `space`");
  internals.space -= a.byteLength;
  b.dataBuffer()
    .bytes()
    .set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), internals.space);
  return b.endVector();
}

/** A vector of table offsets (e.g. dim_metadata); offsets are pushed last-first, as Python does. */
export function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Range-checks a 64-bit field: the Builder would silently wrap an out-of-range bigint. */
export function checkInt64(value: bigint, signed: boolean, what: string): bigint {
  const ok = signed ? value >= I64_MIN && value <= I64_MAX : value >= 0n && value <= U64_MAX;
  if (!ok) throw new FormatError(`${what} = ${value} does not fit in ${signed ? "int64" : "uint64"}`);
  return value;
}

/** Range-checks a 32-bit integer field (the Builder would truncate it). */
export function checkInt32(value: number, signed: boolean, what: string): number {
  const ok =
    Number.isInteger(value) &&
    (signed ? value >= -(2 ** 31) && value < 2 ** 31 : value >= 0 && value < 2 ** 32);
  if (!ok) throw new FormatError(`${what} = ${value} does not fit in ${signed ? "int32" : "uint32"}`);
  return value;
}
