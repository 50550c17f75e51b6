// BloscLZ, Blosc's own FastLZ-derived codec (Blosc's default compressor). Written from the format of c-blosc 1.x
// blosclz_decompress, with every read and write bounds-checked.

import { CodecError } from "./errors.ts";

const MAX_DISTANCE = 8191;

function fail(message: string): never {
  throw new CodecError("blosclz", message);
}

/** Decodes `src[start, end)` into `dst[dstPos, dstPos + size)`; the block must decode to exactly `size` bytes. */
export function decodeBloscLzInto(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstPos: number,
  size: number,
): void {
  if (start >= end) fail("empty block");
  const limit = dstPos + size;
  let ip = start;
  let op = dstPos;
  let ctrl = src[ip++] & 31;
  for (;;) {
    if (ctrl >= 32) {
      let len = (ctrl >>> 5) - 1;
      let ofs = (ctrl & 31) << 8;
      let code: number;
      if (len === 6) {
        do {
          if (ip + 1 >= end) fail("truncated match length");
          code = src[ip++];
          len += code;
        } while (code === 255);
      } else if (ip + 1 >= end) {
        fail("truncated match");
      }
      code = src[ip++];
      len += 3;
      // Distance back from op to the match start (c-blosc: ref = op - ofs - code, then ref--).
      let dist = ofs + code + 1;
      if (code === 255 && ofs === 31 << 8) {
        if (ip + 1 >= end) fail("truncated long distance");
        ofs = (src[ip] << 8) | src[ip + 1];
        ip += 2;
        dist = ofs + MAX_DISTANCE + 1;
      }
      if (op + len > limit) fail("output larger than declared");
      if (op - dist < dstPos) fail("match reaches before the block");
      let m = op - dist;
      const stop = op + len;
      if (dist >= len && len >= 32) {
        dst.copyWithin(op, m, m + len);
        op = stop;
      } else {
        while (op < stop) dst[op++] = dst[m++];
      }
      if (ip >= end) break;
      ctrl = src[ip++];
    } else {
      const n = ctrl + 1;
      if (op + n > limit) fail("output larger than declared");
      if (ip + n > end) fail("literals run past the end of the block");
      for (let i = 0; i < n; i++) dst[op + i] = src[ip + i];
      op += n;
      ip += n;
      if (ip >= end) break;
      ctrl = src[ip++];
    }
  }
  if (op !== limit) fail(`decoded ${op - dstPos} bytes, expected ${size}`);
}
