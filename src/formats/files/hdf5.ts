// UHI HDF5 layout (uhi.io.hdf5.write, see shared reference uhi-boost-histogram.md §1.11), written with h5wasm (the
// HDF5 C library in wasm), readable by `uhi.io.hdf5.read(h5py.File(path)[group])`.
//
// Type choices mirror what h5py writes for the same Python values: int -> 64-bit int, float -> float64, str ->
// variable-length UTF-8. Pitfalls: h5wasm's dtype strings are Python struct codes ('<d' = float64, '<q' = int64;
// '<f8' silently means float32), and it has no boolean type, so bools (h5py's FALSE/TRUE enum) are written as int8
// 0/1, which uhi's reader turns into Python ints that boost-histogram/hist accept wherever a bool is expected.

import h5wasm from "h5wasm/node";
import {
  type Metadata,
  type MetadataValue,
  STORAGE_KEYS,
  type UhiAxis,
  type UhiHistogram,
  uhiAxisExtent,
  type WriterInfo,
} from "../../engine/uhi-types.ts";

type Group = InstanceType<typeof h5wasm.Group>;
type Reference = ReturnType<Group["create_reference"]>;

/** uhi.io.hdf5.write's defaults: gzip level 4 for datasets of at least 1000 elements. */
const GZIP_LEVEL = 4;
const MIN_COMPRESS_ELEMENTS = 1000;
/** Target chunk size for compressed datasets (HDF5 caps a chunk at 4 GiB; ~1 MiB keeps gzip streaming). */
const CHUNK_BYTES = 1 << 20;

function setAttr(obj: Group, name: string, v: MetadataValue, asInt = Number.isSafeInteger(v)): void {
  if (typeof v === "string") obj.create_attribute(name, v, null, "S");
  else if (typeof v === "boolean") obj.create_attribute(name, Int8Array.of(v ? 1 : 0), [], "<b");
  else if (asInt) obj.create_attribute(name, BigInt64Array.of(BigInt(v)), [], "<q");
  else obj.create_attribute(name, Float64Array.of(v), [], "<d");
}

function writeMetadata(parent: Group, metadata?: Metadata, writerInfo?: WriterInfo): void {
  // uhi.io skips empty metadata/writer_info rather than writing empty groups.
  if (metadata && Object.keys(metadata).length > 0) {
    const g = parent.create_group("metadata");
    for (const [k, v] of Object.entries(metadata)) setAttr(g, k, v);
  }
  if (writerInfo && Object.keys(writerInfo).length > 0) {
    const g = parent.create_group("writer_info");
    for (const [lib, m] of Object.entries(writerInfo)) {
      const lg = g.create_group(lib);
      for (const [k, v] of Object.entries(m)) setAttr(lg, k, v);
    }
  }
}

function chunkShape(shape: number[], itemsize: number): number[] {
  const chunks = [...shape];
  let bytes = chunks.reduce((a, b) => a * b, itemsize);
  for (let d = 0; d < chunks.length && bytes > CHUNK_BYTES; d++) {
    while (chunks[d] > 1 && bytes > CHUNK_BYTES) {
      const next = Math.ceil(chunks[d] / 2);
      bytes = (bytes / chunks[d]) * next;
      chunks[d] = next;
    }
  }
  return chunks;
}

function writeArray(parent: Group, name: string, data: Float64Array | BigInt64Array, shape: number[]): void {
  const dtype = data instanceof BigInt64Array ? "<q" : "<d";
  if (data.length >= MIN_COMPRESS_ELEMENTS && shape.length > 0) {
    parent.create_dataset({
      name,
      data,
      shape,
      dtype,
      chunks: chunkShape(shape, 8),
      compression: "gzip",
      compression_opts: GZIP_LEVEL,
    });
  } else {
    parent.create_dataset({ name, data, shape, dtype });
  }
}

function writeAxis(g: Group, a: UhiAxis): void {
  setAttr(g, "type", a.type);
  switch (a.type) {
    case "regular": {
      // bh writes Integer axes' bounds as ints, Regular ones as floats.
      const intBounds = a.writer_info?.["boost-histogram"]?.["orig_type"] === "Integer";
      setAttr(g, "lower", a.lower, intBounds && Number.isSafeInteger(a.lower));
      setAttr(g, "upper", a.upper, intBounds && Number.isSafeInteger(a.upper));
      setAttr(g, "bins", a.bins, true);
      setAttr(g, "underflow", a.underflow);
      setAttr(g, "overflow", a.overflow);
      setAttr(g, "circular", a.circular);
      break;
    }
    case "variable":
      setAttr(g, "underflow", a.underflow);
      setAttr(g, "overflow", a.overflow);
      setAttr(g, "circular", a.circular);
      writeArray(g, "edges", Float64Array.from(a.edges), [a.edges.length]);
      break;
    case "category_int":
      setAttr(g, "flow", a.flow);
      writeArray(
        g,
        "categories",
        BigInt64Array.from(a.categories, (c) => BigInt(c)),
        [a.categories.length],
      );
      break;
    case "category_str":
      setAttr(g, "flow", a.flow);
      if (a.categories.length > 0) g.create_dataset({ name: "categories", data: a.categories, dtype: "S" });
      // h5py writes an empty list as an empty float64 array; uhi reads either as [].
      else writeArray(g, "categories", new Float64Array(0), [0]);
      break;
    case "boolean":
      break;
  }
  writeMetadata(g, a.metadata, a.writer_info);
}

function storageArray(ir: UhiHistogram, values: Float64Array): Float64Array | BigInt64Array {
  if (ir.storage.type !== "int") return values;
  return BigInt64Array.from(values, (v) => {
    if (!Number.isInteger(v)) throw new RangeError(`int storage holds non-integer ${v}`);
    return BigInt(v);
  });
}

export interface Hdf5WriteOptions {
  /** "w" (default) creates or truncates the file; "a" adds the group to an existing file. */
  mode?: "w" | "a";
}

/**
 * Writes `ir` into group `groupName` of the HDF5 file at `path` in the uhi.io.hdf5 layout: attrs `uhi_schema`,
 * groups `metadata`/`writer_info`, dataset `axes` of object references to `ref_axes/axis_<i>` (in axis order),
 * and group `storage` with one N-D dataset per data key.
 */
export async function writeUhiHdf5(
  path: string,
  ir: UhiHistogram,
  groupName = "histogram",
  options: Hdf5WriteOptions = {},
): Promise<void> {
  await h5wasm.ready;
  const shape = ir.axes.map(uhiAxisExtent);
  const cells = shape.reduce((a, b) => a * b, 1);
  const data = ir.storage.data;
  if (data !== undefined) {
    for (const key of STORAGE_KEYS[ir.storage.type]) {
      const v = data[key];
      if (v === undefined) throw new RangeError(`storage ${ir.storage.type} lacks "${key}"`);
      if (v.length !== cells) throw new RangeError(`storage "${key}" has ${v.length} cells, axes ${cells}`);
    }
  }
  const file = new h5wasm.File(path, options.mode ?? "w");
  try {
    const g = file.create_group(groupName);
    const refAxes = g.create_group("ref_axes");
    setAttr(g, "uhi_schema", ir.uhi_schema, true);
    writeMetadata(g, ir.metadata, ir.writer_info);
    const refs: Reference[] = ir.axes.map((a, i) => {
      const ag = refAxes.create_group(`axis_${i}`);
      writeAxis(ag, a);
      return ag.create_reference();
    });
    g.create_dataset({ name: "axes", data: refs, shape: [refs.length], dtype: "Reference" });
    const sg = g.create_group("storage");
    setAttr(sg, "type", ir.storage.type);
    if (data !== undefined) {
      for (const key of STORAGE_KEYS[ir.storage.type])
        writeArray(sg, key, storageArray(ir, data[key]!), shape);
    }
  } finally {
    file.close();
  }
}
