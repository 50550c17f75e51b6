// Raw LZ4 blocks (the sequence format inside LZ4 frames and inside Blosc's lz4/lz4hc blocks).
// Hand-written because no npm LZ4 package both installs offline without native builds and lets a decoder write
// into a caller's buffer with a hard output limit (needed for linked frame blocks and for Blosc's fixed splits).

import { CodecError, type CodecName } from "./errors.ts";

/**
 * Decodes the LZ4 block `src[start, end)` into `dst` at `dstPos`, never writing at or past `dstLimit`.
 * Matches may reach back to `windowStart` (earlier bytes of `dst` are the history of linked blocks).
 * Returns the new end of output. Throws CodecError on malformed input rather than producing garbage.
 */
export function decodeLz4BlockInto(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstPos: number,
  dstLimit: number,
  windowStart = dstPos,
  codec: CodecName = "lz4",
): number {
  let ip = start;
  let op = dstPos;
  if (ip >= end) throw new CodecError(codec, "empty block");
  for (;;) {
    const token = src[ip++];
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CodecError(codec, "truncated literal length");
        b = src[ip++];
        litLen += b;
      } while (b === 255);
    }
    if (litLen > end - ip) throw new CodecError(codec, "literals run past the end of the block");
    if (litLen > dstLimit - op)
      throw new CodecError(codec, "output would exceed the allowed size (declared size or limit)");
    if (litLen < 32) {
      for (let i = 0; i < litLen; i++) dst[op + i] = src[ip + i];
    } else {
      dst.set(src.subarray(ip, ip + litLen), op);
    }
    ip += litLen;
    op += litLen;
    // The last sequence of a block carries literals only.
    if (ip === end) return op;
    if (end - ip < 2) throw new CodecError(codec, "truncated match offset");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart)
      throw new CodecError(codec, `invalid match offset ${offset}`);
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CodecError(codec, "truncated match length");
        b = src[ip++];
        matchLen += b;
      } while (b === 255);
    }
    matchLen += 4;
    if (matchLen > dstLimit - op)
      throw new CodecError(codec, "output would exceed the allowed size (declared size or limit)");
    let m = op - offset;
    if (offset >= matchLen && matchLen >= 32) {
      dst.copyWithin(op, m, m + matchLen);
      op += matchLen;
    } else {
      // Overlapping matches repeat the last `offset` bytes (LZ77 semantics), which copyWithin would not do.
      const stop = op + matchLen;
      while (op < stop) dst[op++] = dst[m++];
    }
    if (ip >= end) throw new CodecError(codec, "block ends with a match");
  }
}

/** Worst-case compressed size of `n` input bytes (LZ4_compressBound). */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

const HASH_LOG = 16;
const MIN_MATCH = 4;
// The format requires the last 5 bytes to be literals and the last match to start 12 bytes before the end.
const LAST_LITERALS = 5;
const MF_LIMIT = 12;

function read32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

function writeLength(out: Uint8Array, op: number, len: number): number {
  let rest = len;
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/**
 * Compresses `src[start, end)` as one independent LZ4 block into `out` at `outPos` (which must have
 * lz4CompressBound bytes free). Greedy single-probe hashing like LZ4's fast mode: histograms are mostly runs of
 * zeros and repeated patterns, so this gets most of the ratio at several hundred MB/s in plain JS.
 * Returns the end of the written block.
 */
export function compressLz4Block(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outPos: number,
  table: Int32Array = new Int32Array(1 << HASH_LOG),
): number {
  table.fill(-1);
  let anchor = start;
  let ip = start;
  let op = outPos;
  const mfLimit = end - MF_LIMIT;
  const matchLimit = end - LAST_LITERALS;
  let misses = 0;
  while (ip < mfLimit) {
    const seq = read32(src, ip);
    const h = Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
    const ref = table[h];
    table[h] = ip;
    if (ref < 0 || ip - ref > 65535 || read32(src, ref) !== seq) {
      // Skip faster through incompressible data, as LZ4's acceleration does.
      ip += 1 + (misses++ >> 6);
      continue;
    }
    misses = 0;
    let len = MIN_MATCH;
    while (ip + len < matchLimit && src[ip + len] === src[ref + len]) len++;
    const litLen = ip - anchor;
    const tokenPos = op++;
    let token = 0;
    if (litLen >= 15) {
      token = 15 << 4;
      op = writeLength(out, op, litLen - 15);
    } else {
      token = litLen << 4;
    }
    out.set(src.subarray(anchor, ip), op);
    op += litLen;
    const offset = ip - ref;
    out[op++] = offset & 255;
    out[op++] = offset >>> 8;
    const ml = len - MIN_MATCH;
    if (ml >= 15) {
      token |= 15;
      op = writeLength(out, op, ml - 15);
    } else {
      token |= ml;
    }
    out[tokenPos] = token;
    ip += len;
    anchor = ip;
  }
  const litLen = end - anchor;
  if (litLen >= 15) {
    out[op++] = 15 << 4;
    op = writeLength(out, op, litLen - 15);
  } else {
    out[op++] = litLen << 4;
  }
  out.set(src.subarray(anchor, end), op);
  return op + litLen;
}
