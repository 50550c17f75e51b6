// A minimal Python pickle (protocol 4) writer: just the opcodes needed to build plain data (None, bool, int,
// float, str, bytes, list, tuple, dict) and to call an importable function on it. Opcode semantics are from
// CPython's Lib/pickletools.py. No memo is used: the programs are trees, so nothing is referenced twice.

const PROTO = 0x80;
const STOP = 0x2e; // .
const NONE = 0x4e; // N
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const BININT = 0x4a; // J: 4-byte signed little-endian
const LONG1 = 0x8a; // 1-byte length, then little-endian two's complement
const BINFLOAT = 0x47; // G: 8-byte big-endian IEEE double (keeps NaN payloads and -0.0)
const SHORT_BINUNICODE = 0x8c;
const BINUNICODE8 = 0x8d;
const SHORT_BINBYTES = 0x43; // C
const BINBYTES8 = 0x8e;
const EMPTY_LIST = 0x5d; // ]
const EMPTY_DICT = 0x7d; // }
const MARK = 0x28; // (
const APPENDS = 0x65; // e
const SETITEMS = 0x75; // u
const TUPLE = 0x74; // t: everything since MARK
const STACK_GLOBAL = 0x93; // module and name strings on the stack -> the object
const REDUCE = 0x52; // R: callable, args tuple -> callable(*args)

export class PickleWriter {
  private chunks: Uint8Array[] = [];
  private small: number[] = [];
  private size = 0;
  private static readonly enc = new TextEncoder();

  constructor() {
    this.op(PROTO, 4);
  }

  private flushSmall(): void {
    if (this.small.length > 0) {
      this.chunks.push(Uint8Array.from(this.small));
      this.size += this.small.length;
      this.small = [];
    }
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.small.push(b);
    if (this.small.length > 4096) this.flushSmall();
    return this;
  }

  private raw(bytes: Uint8Array): this {
    this.flushSmall();
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  private u64(n: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return this.raw(b);
  }

  none(): this {
    return this.op(NONE);
  }

  bool(v: boolean): this {
    return this.op(v ? NEWTRUE : NEWFALSE);
  }

  /** A Python int; `v` must be an integer (safe integers only, to stay exact). */
  int(v: number | bigint): this {
    const big = BigInt(v);
    if (big >= -(2n ** 31n) && big < 2n ** 31n) {
      const n = Number(big);
      return this.op(BININT, n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
    }
    const bytes: number[] = [];
    let x = big;
    // Two's complement, shortest form: stop once the remaining value is all sign bits of the last byte.
    for (;;) {
      const byte = Number(x & 255n);
      bytes.push(byte);
      x >>= 8n;
      if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
    }
    return this.op(LONG1, bytes.length, ...bytes);
  }

  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op(BINFLOAT, ...b);
  }

  str(s: string): this {
    const b = PickleWriter.enc.encode(s);
    if (b.length < 256) return this.op(SHORT_BINUNICODE, b.length).raw(b);
    return this.op(BINUNICODE8).u64(b.length).raw(b);
  }

  bytes(b: Uint8Array): this {
    if (b.length < 256) return this.op(SHORT_BINBYTES, b.length).raw(b);
    return this.op(BINBYTES8).u64(b.length).raw(b);
  }

  /** Pushes `module.name` (e.g. numpy.frombuffer). */
  global(module: string, name: string): this {
    return this.str(module).str(name).op(STACK_GLOBAL);
  }

  /** `items` each push one value; builds a list. */
  list(items: Iterable<() => void>): this {
    this.op(EMPTY_LIST, MARK);
    for (const push of items) push();
    return this.op(APPENDS);
  }

  tuple(items: Iterable<() => void>): this {
    this.op(MARK);
    for (const push of items) push();
    return this.op(TUPLE);
  }

  /** `entries` each push a key then a value; builds a dict. */
  dict(entries: Iterable<() => void>): this {
    this.op(EMPTY_DICT, MARK);
    for (const push of entries) push();
    return this.op(SETITEMS);
  }

  /** Calls `module.name(*args)`, where `args` pushes each argument. */
  call(module: string, name: string, args: () => void): this {
    this.global(module, name);
    this.op(MARK);
    args();
    return this.op(TUPLE, REDUCE);
  }

  /** Ends the program and returns its bytes. */
  finish(): Uint8Array {
    this.op(STOP);
    this.flushSmall();
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}
