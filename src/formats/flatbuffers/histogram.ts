// hs00 / hs01 (EventHistogram): n-dimensional histograms. The two schemas share field ids and layout; hs00
// uses unsigned integer types where hs01 uses signed ones, which is all HistogramSchema parametrises.
import type { Builder } from "flatbuffers";
import { FormatError } from "./errors.ts";
import { MessageReader, type NumericKind, type TableReader } from "./reader.ts";
import {
  checkInt32,
  checkInt64,
  finish,
  type NumericArray,
  newBuilder,
  numericVector,
  offsetVector,
  stringBytes,
  vectorBytes,
} from "./writer.ts";

/** Typed arrays hs00 can carry (union Array: ArrayUInt, ArrayULong, ArrayDouble, ArrayFloat). */
export type Hs00Values = Uint32Array | BigUint64Array | Float64Array | Float32Array;
/** Typed arrays hs01 can carry (union Array: ArrayInt, ArrayLong, ArrayDouble, ArrayFloat). */
export type Hs01Values = Int32Array | BigInt64Array | Float64Array | Float32Array;

export interface DimensionMetadata<V extends NumericArray> {
  /** Bins along this axis in the full histogram. */
  length: number;
  /** Always written (as "" when undefined), like the Python serialiser; undefined on decode only if absent. */
  unit?: string;
  label?: string;
  /** Should hold length + 1 edges. */
  binBoundaries?: V;
}

export interface HistogramFields<V extends NumericArray> {
  source?: string;
  /** ns since the Unix epoch. */
  timestamp: bigint;
  /** One entry per dimension, describing the full histogram. */
  dimMetadata: DimensionMetadata<V>[];
  lastMetadataTimestamp?: bigint;
  /** Shape of the block in this message (equal to the full shape unless the histogram is sent in slices). */
  currentShape: number[];
  /** Start index of this block per dimension, for sliced histograms. */
  offset?: number[];
  /** Row-major (C order), flattened; length = product(currentShape). */
  data: V;
  errors?: V;
  /** Free text; just-bin-it puts a JSON status object here. */
  info?: string;
}

export type Hs00Input = HistogramFields<Hs00Values>;
export type Hs01Input = HistogramFields<Hs01Values>;
export interface Hs00Message extends Hs00Input {
  schema: "hs00";
}
export interface Hs01Message extends Hs01Input {
  schema: "hs01";
}
export type HistogramMessage = Hs00Message | Hs01Message;

export interface HistogramSchema {
  id: "hs00" | "hs01";
  signed: boolean;
  /** Element kinds of union members 1..4. */
  members: readonly [NumericKind, NumericKind, NumericKind, NumericKind];
}
export const hs00Schema: HistogramSchema = {
  id: "hs00",
  signed: false,
  members: ["uint32", "uint64", "float64", "float32"],
};
export const hs01Schema: HistogramSchema = {
  id: "hs01",
  signed: true,
  members: ["int32", "int64", "float64", "float32"],
};

// EventHistogram field ids; a union takes two ids (type, then value).
const SOURCE = 0;
const TIMESTAMP = 1;
const DIM_METADATA = 2;
const LAST_METADATA_TIMESTAMP = 3;
const CURRENT_SHAPE = 4;
const OFFSET = 5;
const DATA_TYPE = 6;
const DATA = 7;
const ERRORS_TYPE = 8;
const ERRORS = 9;
const INFO = 10;
// DimensionMetaData field ids.
const DIM_LENGTH = 0;
const DIM_UNIT = 1;
const DIM_LABEL = 2;
const DIM_BINS_TYPE = 3;
const DIM_BINS = 4;

function kindOf(a: NumericArray): NumericKind {
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof BigUint64Array) return "uint64";
  if (a instanceof Float32Array) return "float32";
  return "float64";
}

/** Writes vector + Array* table; returns [table offset, union member]. */
function encodeArray(b: Builder, s: HistogramSchema, a: NumericArray, what: string): [number, number] {
  const kind = kindOf(a);
  const member = s.members.indexOf(kind) + 1;
  if (member === 0) {
    throw new FormatError(`${s.id}: ${what} cannot be ${kind}; allowed: ${s.members.join(", ")}`);
  }
  const vec = numericVector(b, a);
  b.startObject(1);
  b.addFieldOffset(0, vec, 0);
  return [b.endObject(), member];
}

function shapeVector(b: Builder, s: HistogramSchema, shape: number[], what: string): number {
  const checked = shape.map((n, i) => checkInt32(n, s.signed, `${s.id} ${what}[${i}]`));
  return numericVector(b, s.signed ? Int32Array.from(checked) : Uint32Array.from(checked));
}

function validate(s: HistogramSchema, h: HistogramFields<NumericArray>): void {
  if (h.dimMetadata.length !== h.currentShape.length) {
    throw new FormatError(
      `${s.id}: ${h.dimMetadata.length} dim_metadata entries for a ${h.currentShape.length}-d current_shape`,
    );
  }
  const cells = h.currentShape.reduce((n, d) => n * d, 1);
  if (h.data.length !== cells) {
    throw new FormatError(
      `${s.id}: data has ${h.data.length} values, current_shape [${h.currentShape}] needs ${cells}`,
    );
  }
  if (h.errors !== undefined && h.errors.length !== cells) {
    throw new FormatError(`${s.id}: errors has ${h.errors.length} values, data has ${cells}`);
  }
  if (h.offset !== undefined && h.offset.length !== h.currentShape.length) {
    throw new FormatError(
      `${s.id}: offset has ${h.offset.length} entries for a ${h.currentShape.length}-d shape`,
    );
  }
}

export function encodeHistogram(s: HistogramSchema, h: HistogramFields<NumericArray>): Uint8Array {
  validate(s, h);
  let size = stringBytes(h.source) + stringBytes(h.info) + vectorBytes(h.data) + vectorBytes(h.errors);
  for (const d of h.dimMetadata) {
    size += stringBytes(d.unit) + stringBytes(d.label) + vectorBytes(d.binBoundaries) + 64;
  }
  const b = newBuilder(size + 16 * h.currentShape.length);
  // Same call order as Python's serialise_hs00/hs01, which gives the same bytes for 1-d histograms (for n-d,
  // Python also reuses a vtable whose object size differs; npm writes a second one: still valid).
  const source = h.source === undefined ? 0 : b.createString(h.source);
  const info = h.info === undefined ? 0 : b.createString(h.info);
  const shape = shapeVector(b, s, h.currentShape, "current_shape");
  const dims = h.dimMetadata.map((d, i) => {
    const unit = b.createString(d.unit ?? "");
    const label = b.createString(d.label ?? "");
    const [bins, binsType] =
      d.binBoundaries === undefined
        ? [0, 0]
        : encodeArray(b, s, d.binBoundaries, `dim_metadata[${i}] bin_boundaries`);
    b.startObject(5);
    b.addFieldInt32(DIM_LENGTH, checkInt32(d.length, s.signed, `${s.id} dim_metadata[${i}].length`), 0);
    if (bins !== 0) b.addFieldOffset(DIM_BINS, bins, 0);
    if (bins !== 0) b.addFieldInt8(DIM_BINS_TYPE, binsType, 0);
    b.addFieldOffset(DIM_LABEL, label, 0);
    b.addFieldOffset(DIM_UNIT, unit, 0);
    return b.endObject();
  });
  const dimVector = offsetVector(b, dims);
  const [data, dataType] = encodeArray(b, s, h.data, "data");
  const [errors, errorsType] = h.errors === undefined ? [0, 0] : encodeArray(b, s, h.errors, "errors");
  // Python never writes offset; it goes last so everything before it keeps Python's layout.
  const offset = h.offset === undefined ? 0 : shapeVector(b, s, h.offset, "offset");
  b.startObject(11);
  if (info !== 0) b.addFieldOffset(INFO, info, 0);
  b.addFieldOffset(DATA, data, 0);
  b.addFieldOffset(CURRENT_SHAPE, shape, 0);
  b.addFieldOffset(DIM_METADATA, dimVector, 0);
  b.addFieldInt64(TIMESTAMP, checkInt64(h.timestamp, s.signed, `${s.id} timestamp`), 0n);
  if (source !== 0) b.addFieldOffset(SOURCE, source, 0);
  b.addFieldInt8(DATA_TYPE, dataType, 0);
  if (errors !== 0) {
    b.addFieldOffset(ERRORS, errors, 0);
    b.addFieldInt8(ERRORS_TYPE, errorsType, 0);
  }
  if (h.lastMetadataTimestamp !== undefined) {
    const t = checkInt64(h.lastMetadataTimestamp, s.signed, `${s.id} last_metadata_timestamp`);
    b.addFieldInt64(LAST_METADATA_TIMESTAMP, t, 0n);
  }
  if (offset !== 0) b.addFieldOffset(OFFSET, offset, 0);
  return finish(b, b.endObject(), s.id);
}

function decodeArray(
  s: HistogramSchema,
  t: TableReader,
  typeId: number,
  name: string,
): NumericArray | undefined {
  const member = t.u8(typeId, `${name}_type`);
  const table = t.table(typeId + 1, name);
  if (table === undefined) return undefined;
  const kind = s.members[member - 1];
  if (kind === undefined) throw new FormatError(`${s.id}: ${name} has unknown Array union type ${member}`);
  const values = table.vector(0, `${name}.value`, kind);
  if (values === undefined) throw new FormatError(`${s.id}: ${name} has no value vector`);
  return values;
}

function decodeShape(s: HistogramSchema, t: TableReader, id: number, name: string): number[] | undefined {
  const v = t.vector(id, name, s.signed ? "int32" : "uint32");
  return v === undefined ? undefined : Array.from(v);
}

/** Decodes either schema; the result's array types follow the schema (cast by the hs00/hs01 wrappers). */
export function decodeHistogram(s: HistogramSchema, buf: Uint8Array): HistogramFields<NumericArray> {
  const root = new MessageReader(buf, s.id).root("EventHistogram");
  const read64 = (id: number, name: string) => (s.signed ? root.i64(id, name) : root.u64(id, name));
  const currentShape = decodeShape(s, root, CURRENT_SHAPE, "current_shape");
  if (currentShape === undefined) throw new FormatError(`${s.id}: required field current_shape is missing`);
  const data = decodeArray(s, root, DATA_TYPE, "data");
  if (data === undefined) throw new FormatError(`${s.id}: data is missing`);
  // Checked so consumers can reshape data without reading past its end (Python's reshape fails here too).
  const cells = currentShape.reduce((n, d) => n * d, 1);
  if (data.length !== cells) {
    throw new FormatError(
      `${s.id}: data has ${data.length} values, current_shape [${currentShape}] needs ${cells}`,
    );
  }
  const dimMetadata = (root.tables(DIM_METADATA, "dim_metadata") ?? []).map((d) => {
    const dim: DimensionMetadata<NumericArray> = {
      length: s.signed ? d.i32(DIM_LENGTH, "length") : d.u32(DIM_LENGTH, "length"),
    };
    const unit = d.string(DIM_UNIT, "unit");
    const label = d.string(DIM_LABEL, "label");
    const bins = decodeArray(s, d, DIM_BINS_TYPE, "bin_boundaries");
    if (unit !== undefined) dim.unit = unit;
    if (label !== undefined) dim.label = label;
    if (bins !== undefined) dim.binBoundaries = bins;
    return dim;
  });
  const h: HistogramFields<NumericArray> = {
    timestamp: read64(TIMESTAMP, "timestamp") ?? 0n,
    dimMetadata,
    currentShape,
    data,
  };
  const source = root.string(SOURCE, "source");
  const info = root.string(INFO, "info");
  const errors = decodeArray(s, root, ERRORS_TYPE, "errors");
  const offset = decodeShape(s, root, OFFSET, "offset");
  const lastMetadataTimestamp = read64(LAST_METADATA_TIMESTAMP, "last_metadata_timestamp");
  if (source !== undefined) h.source = source;
  if (info !== undefined) h.info = info;
  if (errors !== undefined) h.errors = errors;
  if (offset !== undefined) h.offset = offset;
  if (lastMetadataTimestamp !== undefined) h.lastMetadataTimestamp = lastMetadataTimestamp;
  return h;
}
