// `.coffea` files: what coffea.util.save writes (lz4 frame around a cloudpickle), loadable by coffea.util.load,
// cloudpickle.loads or pickle.loads.
//
// Instead of emulating hist's internal pickle state (C++ storage buffers, version-specific), the pickle is a
// small program calling `hist.serialization.from_uhi(<IR dict>)`, hist's own public UHI reader, so the loaded
// object is a real `hist.Hist` built by the installed hist version. Storage arrays travel as
// `numpy.frombuffer(<bytes>, "<f8" | "<i8")` (flat; from_uhi reshapes to the axes' extents): exact bits,
// including NaN and -0.0, and the dtype boost-histogram itself writes.

import {
  type Metadata,
  type MetadataValue,
  STORAGE_KEYS,
  type UhiAxis,
  type UhiHistogram,
  uhiAxisExtent,
  type WriterInfo,
} from "../../engine/uhi-types.ts";
import { encodeLz4Frame } from "../codecs/lz4-frame.ts";
import { PickleWriter } from "./pickle.ts";

function pushScalar(w: PickleWriter, v: MetadataValue): void {
  if (typeof v === "string") w.str(v);
  else if (typeof v === "boolean") w.bool(v);
  // JSON-like IR cannot tell 2 from 2.0; integers are written as Python ints (equal under ==).
  else if (Number.isSafeInteger(v)) w.int(v);
  else w.float(v);
}

function pushMetadata(w: PickleWriter, m: Metadata): void {
  w.dict(
    Object.entries(m).map(
      ([k, v]) =>
        () =>
          pushScalar(w.str(k), v),
    ),
  );
}

function pushWriterInfo(w: PickleWriter, info: WriterInfo): void {
  w.dict(
    Object.entries(info).map(
      ([lib, m]) =>
        () =>
          pushMetadata(w.str(lib), m),
    ),
  );
}

/** Entries of a dict: key plus a function pushing the value. */
type Entry = [string, () => void];

function pushDict(w: PickleWriter, entries: Entry[]): void {
  w.dict(
    entries.map(([k, push]) => () => {
      w.str(k);
      push();
    }),
  );
}

function isIntegerAxis(a: UhiAxis): boolean {
  return a.writer_info?.["boost-histogram"]?.["orig_type"] === "Integer";
}

function axisEntries(w: PickleWriter, a: UhiAxis): Entry[] {
  const e: Entry[] = [["type", () => w.str(a.type)]];
  switch (a.type) {
    case "regular": {
      // bh writes Integer axes' bounds as ints and Regular ones as floats; keep that distinction.
      const num = (v: number) => () => (isIntegerAxis(a) && Number.isSafeInteger(v) ? w.int(v) : w.float(v));
      e.push(["lower", num(a.lower)], ["upper", num(a.upper)], ["bins", () => w.int(a.bins)]);
      e.push(["underflow", () => w.bool(a.underflow)], ["overflow", () => w.bool(a.overflow)]);
      e.push(["circular", () => w.bool(a.circular)]);
      break;
    }
    case "variable":
      e.push(["edges", () => w.list(a.edges.map((x) => () => w.float(x)))]);
      e.push(["underflow", () => w.bool(a.underflow)], ["overflow", () => w.bool(a.overflow)]);
      e.push(["circular", () => w.bool(a.circular)]);
      break;
    case "category_int":
      e.push(
        ["categories", () => w.list(a.categories.map((x) => () => w.int(x)))],
        ["flow", () => w.bool(a.flow)],
      );
      break;
    case "category_str":
      e.push(
        ["categories", () => w.list(a.categories.map((x) => () => w.str(x)))],
        ["flow", () => w.bool(a.flow)],
      );
      break;
    case "boolean":
      break;
  }
  if (a.metadata) e.push(["metadata", () => pushMetadata(w, a.metadata!)]);
  if (a.writer_info) e.push(["writer_info", () => pushWriterInfo(w, a.writer_info!)]);
  return e;
}

/** Little-endian bytes of a storage array in the dtype boost-histogram uses for it. */
function arrayBytes(values: Float64Array, asInt: boolean): Uint8Array {
  if (!asInt) {
    const copy = new Float64Array(values);
    return new Uint8Array(copy.buffer);
  }
  const ints = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i])) throw new RangeError(`int storage holds non-integer ${values[i]}`);
    ints[i] = BigInt(values[i]);
  }
  return new Uint8Array(ints.buffer);
}

/** The pickle program (before compression) that rebuilds `ir` as a hist.Hist. */
export function coffeaPickle(ir: UhiHistogram): Uint8Array {
  const cells = ir.axes.reduce((n, a) => n * uhiAxisExtent(a), 1);
  const w = new PickleWriter();
  const storage: Entry[] = [["type", () => w.str(ir.storage.type)]];
  const data = ir.storage.data;
  if (data !== undefined) {
    for (const key of STORAGE_KEYS[ir.storage.type]) {
      const values = data[key];
      if (values === undefined) throw new RangeError(`storage ${ir.storage.type} lacks "${key}"`);
      if (values.length !== cells)
        throw new RangeError(`storage "${key}" has ${values.length} cells, axes ${cells}`);
      const asInt = ir.storage.type === "int";
      storage.push([
        key,
        () =>
          w.call("numpy", "frombuffer", () => w.bytes(arrayBytes(values, asInt)).str(asInt ? "<i8" : "<f8")),
      ]);
    }
  }
  const top: Entry[] = [
    ["uhi_schema", () => w.int(1)],
    ["axes", () => w.list(ir.axes.map((a) => () => pushDict(w, axisEntries(w, a))))],
    ["storage", () => pushDict(w, storage)],
  ];
  if (ir.metadata) top.push(["metadata", () => pushMetadata(w, ir.metadata!)]);
  if (ir.writer_info) top.push(["writer_info", () => pushWriterInfo(w, ir.writer_info!)]);
  w.call("hist.serialization", "from_uhi", () => pushDict(w, top));
  return w.finish();
}

/** The bytes of a `.coffea` file holding `ir` as a hist.Hist (coffea.util.load / lz4.frame + pickle). */
export function encodeCoffea(ir: UhiHistogram): Uint8Array {
  return encodeLz4Frame(coffeaPickle(ir));
}
