// numpy arrays off the wire: dtype + shape + bytes (raw, or compressed by the client) to typed arrays the
// engine fills from. Views are zero-copy when the bytes are aligned; every length is checked against the shape.

import type { FillValue, NumericArray } from "../engine/index.ts";
import { decodeBlosc, decodeLz4Frame, decodeZstd } from "../formats/codecs/index.ts";

/** A request error the server maps to INVALID_ARGUMENT (or RESOURCE_EXHAUSTED when `exhausted`). */
export class RequestError extends Error {
  readonly status:
    | "INVALID_ARGUMENT"
    | "NOT_FOUND"
    | "RESOURCE_EXHAUSTED"
    | "UNAUTHENTICATED"
    | "ALREADY_EXISTS";
  constructor(status: RequestError["status"], message: string) {
    super(message);
    this.name = "RequestError";
    this.status = status;
  }
}

export const invalid = (msg: string) => new RequestError("INVALID_ARGUMENT", msg);

export type DTypeName = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

const ITEMSIZE: Record<DTypeName, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bool: 1 };

export type CodecKind = "none" | "lz4" | "zstd" | "blosc";

export interface WireArray {
  dtype: DTypeName;
  shape: number[];
  data: Uint8Array;
  codec?: CodecKind;
}

/** Most decompressed bytes one array may take: the message limit. */
export const MAX_ARRAY_BYTES = 2 ** 31 - 1;

function decompress(a: WireArray, expected: number, what: string): Uint8Array {
  const codec = a.codec ?? "none";
  if (codec === "none") return a.data;
  try {
    let out: Uint8Array;
    if (codec === "lz4") out = decodeLz4Frame(a.data, Math.max(expected, 1));
    else if (codec === "zstd") out = decodeZstd(a.data, Math.max(expected, 1));
    else out = decodeBlosc(a.data, Math.max(expected, 1));
    return out;
  } catch (e) {
    throw invalid(`${what}: corrupt ${codec} data: ${(e as Error).message}`);
  }
}

function view(bytes: Uint8Array, dtype: DTypeName, n: number): NumericArray | boolean[] {
  const size = ITEMSIZE[dtype];
  const aligned = bytes.byteOffset % size === 0;
  // Node Buffers slice to views, so copy through Uint8Array.prototype.slice.
  const buf = aligned ? bytes : Uint8Array.prototype.slice.call(bytes);
  const { buffer, byteOffset } = buf;
  switch (dtype) {
    case "float64":
      return new Float64Array(buffer, byteOffset, n);
    case "float32":
      return new Float32Array(buffer, byteOffset, n);
    case "int32":
      return new Int32Array(buffer, byteOffset, n);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, n);
    case "uint8":
      return new Uint8Array(buffer, byteOffset, n);
    case "bool":
      return Array.from(new Uint8Array(buffer, byteOffset, n), (b) => b !== 0);
  }
}

/** Decodes one array: checks the shape, decompresses, checks the byte count, returns a (zero-copy) view. */
export function decodeArray(
  a: WireArray,
  what: string,
  opts: { flat?: boolean } = {},
): NumericArray | boolean[] {
  const size = ITEMSIZE[a.dtype];
  if (size === undefined) throw invalid(`${what}: unsupported dtype ${String(a.dtype)}`);
  if (a.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw invalid(`${what}: bad shape [${a.shape.join(", ")}]`);
  if (opts.flat !== false && a.shape.length > 1)
    throw invalid(`${what}: fill arrays must be 1-dimensional, got shape (${a.shape.join(", ")})`);
  const n = a.shape.length === 0 ? 1 : a.shape.reduce((p, d) => p * d, 1);
  const expected = n * size;
  if (expected > MAX_ARRAY_BYTES)
    throw new RequestError("RESOURCE_EXHAUSTED", `${what}: ${expected} bytes is too large`);
  const bytes = decompress(a, expected, what);
  if (bytes.byteLength !== expected)
    throw invalid(
      `${what}: shape (${a.shape.join(", ")}) of ${a.dtype} needs ${expected} bytes, got ${bytes.byteLength}`,
    );
  return view(bytes, a.dtype, n);
}

/** A 0-d array is a scalar fill value (broadcast), as numpy would treat it. */
export function arrayFillValue(a: WireArray, what: string): FillValue {
  const v = decodeArray(a, what);
  if (a.shape.length > 0) return v as FillValue;
  const x = (v as ArrayLike<number | bigint | boolean>)[0];
  return typeof x === "bigint" ? Number(x) : (x as number | boolean);
}

/** Bytes of a Float64Array as a Uint8Array view (no copy). */
export function f64Bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
