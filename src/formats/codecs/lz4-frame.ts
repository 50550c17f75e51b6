// LZ4 frame format (LZ4F, what Python's lz4.frame.compress writes and coffea.util.save uses).
// Decoding keeps the whole output in one buffer, so linked blocks find their 64 KiB history without copies.

import { CodecError } from "./errors.ts";
import { compressLz4Block, decodeLz4BlockInto, lz4CompressBound } from "./lz4-block.ts";
import { xxh32 } from "./xxhash32.ts";

const MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX = [0, 0, 0, 0, 1 << 16, 1 << 18, 1 << 20, 1 << 22];

function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function fail(message: string): never {
  throw new CodecError("lz4-frame", message);
}

/** Output buffer that grows by doubling, never beyond `limit` bytes. */
class Output {
  buf: Uint8Array;
  len = 0;
  readonly limit: number;

  constructor(initial: number, limit: number) {
    this.limit = limit;
    this.buf = new Uint8Array(Math.min(initial, limit));
  }

  /** Makes room for `n` more bytes, or throws if that would pass the limit. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need > this.limit) fail(`output exceeds the limit of ${this.limit} bytes`);
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.limit, Math.max(need, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/**
 * Decodes one or more concatenated LZ4 frames (skippable frames are skipped). Throws CodecError on malformed input,
 * on checksum mismatch, or as soon as the output would pass `maxOutputBytes` (a declared content size above the
 * limit is refused before allocating).
 */
export function decodeLz4Frame(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  let p = 0;
  let out: Output | undefined;
  if (bytes.length < 4) fail("input too short for a frame");
  while (p < bytes.length) {
    if (bytes.length - p < 4) fail("trailing bytes after the last frame");
    const magic = u32(bytes, p);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (bytes.length - p < 8) fail("truncated skippable frame");
      const size = u32(bytes, p + 4);
      if (size > bytes.length - p - 8) fail("truncated skippable frame");
      p += 8 + size;
      continue;
    }
    if (magic !== MAGIC) fail(`bad magic number 0x${magic.toString(16)}`);
    p += 4;
    const descStart = p;
    if (bytes.length - p < 3) fail("truncated frame descriptor");
    const flg = bytes[p++];
    const bd = bytes[p++];
    if (flg >>> 6 !== 1) fail(`unsupported frame version ${flg >>> 6}`);
    if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) fail("reserved descriptor bits set");
    const independent = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    if ((flg & 0x01) !== 0) fail("dictionaries are not supported");
    const blockMax = BLOCK_MAX[(bd >>> 4) & 7];
    if (blockMax === 0) fail("invalid block maximum size");
    let contentSize = -1;
    if (hasContentSize) {
      if (bytes.length - p < 9) fail("truncated frame descriptor");
      const hi = u32(bytes, p + 4);
      contentSize = hi * 2 ** 32 + u32(bytes, p);
      p += 8;
    }
    if (bytes.length - p < 1) fail("truncated frame descriptor");
    if (((xxh32(bytes, descStart, p) >>> 8) & 0xff) !== bytes[p]) fail("frame descriptor checksum mismatch");
    p++;
    const frameOutStart = out?.len ?? 0;
    if (contentSize >= 0 && frameOutStart + contentSize > maxOutputBytes) {
      fail(`declared content size ${contentSize} exceeds the limit of ${maxOutputBytes} bytes`);
    }
    if (out === undefined) {
      const guess = contentSize >= 0 ? contentSize : Math.max(1 << 16, bytes.length * 4);
      out = new Output(guess, maxOutputBytes);
    } else if (contentSize >= 0) {
      out.reserve(contentSize);
    }
    for (;;) {
      if (bytes.length - p < 4) fail("truncated block header");
      const word = u32(bytes, p);
      p += 4;
      if (word === 0) break;
      const stored = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMax) fail(`block of ${size} bytes exceeds the frame's maximum ${blockMax}`);
      if (size > bytes.length - p - (blockChecksum ? 4 : 0)) fail("truncated block");
      if (blockChecksum && xxh32(bytes, p, p + size) !== u32(bytes, p + size))
        fail("block checksum mismatch");
      if (stored) {
        out.reserve(size);
        out.buf.set(bytes.subarray(p, p + size), out.len);
        out.len += size;
      } else {
        // A block may decode to at most blockMax bytes; the output limit caps that further.
        const room = Math.min(blockMax, out.limit - out.len);
        out.reserve(room);
        const windowStart = independent ? out.len : frameOutStart;
        out.len = decodeLz4BlockInto(
          bytes,
          p,
          p + size,
          out.buf,
          out.len,
          out.len + room,
          windowStart,
          "lz4-frame",
        );
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (contentSize >= 0 && out.len - frameOutStart !== contentSize) {
      fail(`decoded ${out.len - frameOutStart} bytes but the frame declares ${contentSize}`);
    }
    if (contentChecksum) {
      if (bytes.length - p < 4) fail("truncated content checksum");
      if (xxh32(out.buf, frameOutStart, out.len) !== u32(bytes, p)) fail("content checksum mismatch");
      p += 4;
    }
  }
  if (out === undefined) return new Uint8Array(0);
  return out.len === out.buf.length ? out.buf : out.buf.slice(0, out.len);
}

/** Block size written by encodeLz4Frame: the largest the format allows, fewest block headers. */
const ENCODE_BLOCK = 1 << 22;

/**
 * Encodes `data` as one LZ4 frame with independent 4 MiB blocks, the content size and a content checksum, which
 * Python's lz4.frame.decompress (and the lz4 CLI) read. Incompressible blocks are stored raw.
 */
export function encodeLz4Frame(data: Uint8Array): Uint8Array {
  const nBlocks = Math.ceil(data.length / ENCODE_BLOCK);
  const out = new Uint8Array(4 + 11 + nBlocks * (4 + lz4CompressBound(ENCODE_BLOCK)) + 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  // FLG: version 01, independent blocks, content size, content checksum. BD: 4 MiB maximum block size.
  out[4] = 0x40 | 0x20 | 0x08 | 0x04;
  out[5] = 7 << 4;
  view.setUint32(6, data.length % 2 ** 32, true);
  view.setUint32(10, Math.floor(data.length / 2 ** 32), true);
  out[14] = (xxh32(out, 4, 14) >>> 8) & 0xff;
  let op = 15;
  const table = new Int32Array(1 << 16);
  for (let start = 0; start < data.length; start += ENCODE_BLOCK) {
    const end = Math.min(data.length, start + ENCODE_BLOCK);
    const written = compressLz4Block(data, start, end, out, op + 4, table) - (op + 4);
    if (written >= end - start) {
      view.setUint32(op, (end - start) | 0x80000000, true);
      out.set(data.subarray(start, end), op + 4);
      op += 4 + (end - start);
    } else {
      view.setUint32(op, written, true);
      op += 4 + written;
    }
  }
  view.setUint32(op, 0, true);
  view.setUint32(op + 4, xxh32(data), true);
  return out.slice(0, op + 8);
}
