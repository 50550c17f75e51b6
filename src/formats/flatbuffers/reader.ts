// A bounds-checked FlatBuffers table reader. The npm runtime's ByteBuffer does no bounds checks (an
// offset past the end silently reads `undefined` bits as 0), so a truncated or hostile Kafka record
// would decode to garbage instead of failing. Every read here is checked and throws FormatError.
import { FormatError } from "./errors.ts";
import { expectFileIdentifier } from "./identifier.ts";

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!hostIsLittleEndian) {
  // Zero-copy views reinterpret the little-endian wire bytes in host order.
  throw new Error("histd's FlatBuffers codecs need a little-endian host");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Numeric vector element types and the typed arrays they decode to. */
export interface NumericVectors {
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
}
export type NumericKind = keyof NumericVectors;

type ViewCtor<K extends NumericKind> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericVectors[K];
  readonly BYTES_PER_ELEMENT: number;
};
const ctors: { [K in NumericKind]: ViewCtor<K> } = {
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** A whole message: checks the schema id and resolves tables inside it. */
export class MessageReader {
  readonly bytes: Uint8Array;
  readonly schema: string;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, schema: string) {
    expectFileIdentifier(bytes, schema);
    this.bytes = bytes;
    this.schema = schema;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  root(name: string): TableReader {
    return this.tableAt(this.u32(0, "root offset"), name);
  }

  check(pos: number, size: number, what: string): void {
    if (!(pos >= 0 && pos + size <= this.bytes.length)) {
      throw new FormatError(
        `${this.schema}: ${what} (bytes ${pos}..${pos + size}) lies outside the ${this.bytes.length}-byte message`,
      );
    }
  }

  u8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.check(pos, 2, what);
    return this.view.getUint16(pos, true);
  }
  i32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getInt32(pos, true);
  }
  u32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getUint32(pos, true);
  }
  i64(pos: number, what: string): bigint {
    this.check(pos, 8, what);
    return this.view.getBigInt64(pos, true);
  }
  u64(pos: number, what: string): bigint {
    this.check(pos, 8, what);
    return this.view.getBigUint64(pos, true);
  }
  f32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getFloat32(pos, true);
  }

  tableAt(pos: number, name: string): TableReader {
    const vtable = pos - this.i32(pos, `${name} table`);
    // Only the vtable's size word is read here: the golden hs00 file has a clobbered size (0x3030), which
    // lenient readers (Python, flatc TS, npm runtime) tolerate, so each slot is bounds-checked on use instead.
    const vtableSize = this.u16(vtable, `${name} vtable`);
    return new TableReader(this, pos, vtable, vtableSize, name);
  }

  /** Follows the u32 offset stored at `pos`; returns the target position. */
  indirect(pos: number, what: string): number {
    return pos + this.u32(pos, what);
  }
}

/** One table: field lookups by schema field id (declaration order; a union takes two ids). */
export class TableReader {
  readonly msg: MessageReader;
  private readonly pos: number;
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly name: string;

  constructor(msg: MessageReader, pos: number, vtable: number, vtableSize: number, name: string) {
    this.msg = msg;
    this.pos = pos;
    this.vtable = vtable;
    this.vtableSize = vtableSize;
    this.name = name;
  }

  /** Absolute position of a field's inline value, or 0 if the field is absent. */
  private field(id: number, field: string): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > this.vtableSize) return 0;
    const off = this.msg.u16(this.vtable + slot, `vtable slot of ${this.name}.${field}`);
    return off === 0 ? 0 : this.pos + off;
  }

  has(id: number, field: string): boolean {
    return this.field(id, field) !== 0;
  }

  u8(id: number, field: string, dflt = 0): number {
    const p = this.field(id, field);
    return p === 0 ? dflt : this.msg.u8(p, `${this.name}.${field}`);
  }
  i8(id: number, field: string, dflt = 0): number {
    const p = this.field(id, field);
    return p === 0 ? dflt : this.msg.i8(p, `${this.name}.${field}`);
  }
  u32(id: number, field: string, dflt = 0): number {
    const p = this.field(id, field);
    return p === 0 ? dflt : this.msg.u32(p, `${this.name}.${field}`);
  }
  i32(id: number, field: string, dflt = 0): number {
    const p = this.field(id, field);
    return p === 0 ? dflt : this.msg.i32(p, `${this.name}.${field}`);
  }
  u64(id: number, field: string): bigint | undefined {
    const p = this.field(id, field);
    return p === 0 ? undefined : this.msg.u64(p, `${this.name}.${field}`);
  }
  i64(id: number, field: string): bigint | undefined {
    const p = this.field(id, field);
    return p === 0 ? undefined : this.msg.i64(p, `${this.name}.${field}`);
  }
  f32(id: number, field: string, dflt = 0): number {
    const p = this.field(id, field);
    return p === 0 ? dflt : this.msg.f32(p, `${this.name}.${field}`);
  }

  /** Start and element count of a vector field, after checking it fits in the message. */
  private vectorSpan(
    id: number,
    field: string,
    elemSize: number,
  ): { start: number; length: number } | undefined {
    const p = this.field(id, field);
    if (p === 0) return undefined;
    const what = `${this.name}.${field}`;
    const at = this.msg.indirect(p, `offset of ${what}`);
    const length = this.msg.u32(at, `length of ${what}`);
    this.msg.check(at + 4, length * elemSize, `${length} elements of ${what}`);
    return { start: at + 4, length };
  }

  string(id: number, field: string): string | undefined {
    const span = this.vectorSpan(id, field, 1);
    if (span === undefined) return undefined;
    const raw = this.msg.bytes.subarray(span.start, span.start + span.length);
    try {
      return utf8.decode(raw);
    } catch {
      throw new FormatError(`${this.msg.schema}: ${this.name}.${field} is not valid UTF-8`);
    }
  }

  /**
   * A numeric vector as a typed array. It is a view onto the message bytes (no copy) when the data is
   * aligned in memory; Kafka clients often hand out Buffers at odd offsets of a pooled slab, and then it is
   * copied. Views alias the message: do not mutate them, or recycle the buffer while they are in use.
   */
  vector<K extends NumericKind>(id: number, field: string, kind: K): NumericVectors[K] | undefined {
    const Ctor: ViewCtor<K> = ctors[kind];
    const size = Ctor.BYTES_PER_ELEMENT;
    const span = this.vectorSpan(id, field, size);
    if (span === undefined) return undefined;
    const bytes = this.msg.bytes;
    const abs = bytes.byteOffset + span.start;
    if (abs % size === 0) return new Ctor(bytes.buffer, abs, span.length);
    // new Uint8Array(view) copies; `bytes.slice` would not for a Node Buffer (its slice is a view).
    const copy = new Uint8Array(bytes.subarray(span.start, span.start + span.length * size));
    return new Ctor(copy.buffer, 0, span.length);
  }

  table(id: number, field: string): TableReader | undefined {
    const p = this.field(id, field);
    if (p === 0) return undefined;
    return this.msg.tableAt(this.msg.indirect(p, `offset of ${this.name}.${field}`), field);
  }

  tables(id: number, field: string): TableReader[] | undefined {
    const span = this.vectorSpan(id, field, 4);
    if (span === undefined) return undefined;
    const out: TableReader[] = [];
    for (let i = 0; i < span.length; i++) {
      const entry = span.start + 4 * i;
      out.push(this.msg.tableAt(this.msg.indirect(entry, `${field}[${i}] offset`), `${field}[${i}]`));
    }
    return out;
  }
}
