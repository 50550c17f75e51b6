// Inverse of Blosc1's shuffle filters, matching c-blosc 1.x (blosc/shuffle.c) byte for byte, including which bytes
// are left untouched: the trailing `blocksize % typesize` bytes, and for bit-shuffle every block whose element
// count is not a multiple of 8 (c-blosc copies those verbatim).

/** Byte unshuffle: `src` holds byte plane j (byte j of every element) after plane j-1. */
export function byteUnshuffle(
  typesize: number,
  blocksize: number,
  src: Uint8Array,
  srcPos: number,
  dst: Uint8Array,
  dstPos: number,
): void {
  const n = Math.floor(blocksize / typesize);
  for (let j = 0; j < typesize; j++) {
    const plane = srcPos + j * n;
    let o = dstPos + j;
    for (let i = 0; i < n; i++, o += typesize) dst[o] = src[plane + i];
  }
  const done = n * typesize;
  dst.set(src.subarray(srcPos + done, srcPos + blocksize), dstPos + done);
}

/**
 * Bit unshuffle (the bitshuffle library's layout): for byte j of the element and bit k, a row of n/8 bytes holds
 * that bit of every element, element 8g+m at bit m of row byte g. Each 8 row bytes (k = 0..7, one g) are an 8x8 bit
 * matrix whose transpose is byte j of elements 8g..8g+7.
 */
export function bitUnshuffle(
  typesize: number,
  blocksize: number,
  src: Uint8Array,
  srcPos: number,
  dst: Uint8Array,
  dstPos: number,
): void {
  const n = Math.floor(blocksize / typesize);
  if (n % 8 !== 0) {
    dst.set(src.subarray(srcPos, srcPos + blocksize), dstPos);
    return;
  }
  const aligned = (src.byteOffset + srcPos) % 4 === 0 && (dst.byteOffset + dstPos) % 4 === 0;
  if (typesize % 4 === 0 && n % 32 === 0 && aligned) bitUnshuffleWords(typesize, n, src, srcPos, dst, dstPos);
  else bitUnshuffleBytes(typesize, n, src, srcPos, dst, dstPos);
  const done = n * typesize;
  dst.set(src.subarray(srcPos + done, srcPos + blocksize), dstPos + done);
}

/**
 * Any typesize: one 8x8 transpose (Hacker's Delight `transpose8` on two 32-bit halves, as JS bit operations are
 * 32-bit) per 8 output bytes, stored byte by byte. About 400 MB/s in V8.
 */
function bitUnshuffleBytes(
  typesize: number,
  n: number,
  src: Uint8Array,
  srcPos: number,
  dst: Uint8Array,
  dstPos: number,
): void {
  const row = n >>> 3;
  const stride8 = typesize * 8;
  for (let j = 0; j < typesize; j++) {
    const r0 = srcPos + j * 8 * row;
    const r1 = r0 + row;
    const r2 = r1 + row;
    const r3 = r2 + row;
    const r4 = r3 + row;
    const r5 = r4 + row;
    const r6 = r5 + row;
    const r7 = r6 + row;
    let o = dstPos + j;
    for (let g = 0; g < row; g++, o += stride8) {
      let lo = src[r0 + g] | (src[r1 + g] << 8) | (src[r2 + g] << 16) | (src[r3 + g] << 24);
      let hi = src[r4 + g] | (src[r5 + g] << 8) | (src[r6 + g] << 16) | (src[r7 + g] << 24);
      let t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
      lo ^= t ^ (t << 7);
      t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
      hi ^= t ^ (t << 7);
      t = (lo ^ (lo >>> 14)) & 0x0000cccc;
      lo ^= t ^ (t << 14);
      t = (hi ^ (hi >>> 14)) & 0x0000cccc;
      hi ^= t ^ (t << 14);
      t = (lo ^ (hi << 4)) & 0xf0f0f0f0;
      lo ^= t;
      hi ^= t >>> 4;
      dst[o] = lo;
      dst[o + typesize] = lo >>> 8;
      dst[o + 2 * typesize] = lo >>> 16;
      dst[o + 3 * typesize] = lo >>> 24;
      dst[o + 4 * typesize] = hi;
      dst[o + 5 * typesize] = hi >>> 8;
      dst[o + 6 * typesize] = hi >>> 16;
      dst[o + 7 * typesize] = hi >>> 24;
    }
  }
}

/**
 * typesize 4, 8, ... (float32/int32/float64/int64), 32 elements at a time, all in 32-bit words: a row word holds
 * 4 groups, so 8 row words are four 8x8 bit matrices side by side, transposed together by block swaps; a 4x4
 * byte transpose then assembles whole output words from 4 consecutive element bytes. Word loads and stores
 * instead of byte ones make this about twice as fast as bitUnshuffleBytes (which is most of Blosc's decode cost).
 */
function bitUnshuffleWords(
  typesize: number,
  n: number,
  src: Uint8Array,
  srcPos: number,
  dst: Uint8Array,
  dstPos: number,
): void {
  const in32 = new Int32Array(src.buffer, src.byteOffset + srcPos, (n * typesize) >>> 2);
  const out32 = new Int32Array(dst.buffer, dst.byteOffset + dstPos, (n * typesize) >>> 2);
  const rowWords = n >>> 5;
  const wpe = typesize >>> 2;
  const t32 = new Int32Array(32);
  for (let q = 0; q < wpe; q++) {
    for (let c = 0; c < rowWords; c++) {
      // Byte planes j = 4q .. 4q+3 make up output word q of each element.
      for (let jj = 0; jj < 4; jj++) {
        const base = (4 * q + jj) * 8 * rowWords + c;
        let w0 = in32[base];
        let w1 = in32[base + rowWords];
        let w2 = in32[base + 2 * rowWords];
        let w3 = in32[base + 3 * rowWords];
        let w4 = in32[base + 4 * rowWords];
        let w5 = in32[base + 5 * rowWords];
        let w6 = in32[base + 6 * rowWords];
        let w7 = in32[base + 7 * rowWords];
        // Transpose each byte lane: swap 4x4, then 2x2, then 1x1 off-diagonal blocks.
        let t = ((w0 >>> 4) ^ w4) & 0x0f0f0f0f;
        w4 ^= t;
        w0 ^= t << 4;
        t = ((w1 >>> 4) ^ w5) & 0x0f0f0f0f;
        w5 ^= t;
        w1 ^= t << 4;
        t = ((w2 >>> 4) ^ w6) & 0x0f0f0f0f;
        w6 ^= t;
        w2 ^= t << 4;
        t = ((w3 >>> 4) ^ w7) & 0x0f0f0f0f;
        w7 ^= t;
        w3 ^= t << 4;
        t = ((w0 >>> 2) ^ w2) & 0x33333333;
        w2 ^= t;
        w0 ^= t << 2;
        t = ((w1 >>> 2) ^ w3) & 0x33333333;
        w3 ^= t;
        w1 ^= t << 2;
        t = ((w4 >>> 2) ^ w6) & 0x33333333;
        w6 ^= t;
        w4 ^= t << 2;
        t = ((w5 >>> 2) ^ w7) & 0x33333333;
        w7 ^= t;
        w5 ^= t << 2;
        t = ((w0 >>> 1) ^ w1) & 0x55555555;
        w1 ^= t;
        w0 ^= t << 1;
        t = ((w2 >>> 1) ^ w3) & 0x55555555;
        w3 ^= t;
        w2 ^= t << 1;
        t = ((w4 >>> 1) ^ w5) & 0x55555555;
        w5 ^= t;
        w4 ^= t << 1;
        t = ((w6 >>> 1) ^ w7) & 0x55555555;
        w7 ^= t;
        w6 ^= t << 1;
        // Now byte lane b of w_k is byte (4q + jj) of element 32c + 8b + k.
        const o = jj * 8;
        t32[o] = w0;
        t32[o + 1] = w1;
        t32[o + 2] = w2;
        t32[o + 3] = w3;
        t32[o + 4] = w4;
        t32[o + 5] = w5;
        t32[o + 6] = w6;
        t32[o + 7] = w7;
      }
      const e0 = 32 * c;
      for (let k = 0; k < 8; k++) {
        // 4x4 byte transpose of (plane 4q, 4q+1, 4q+2, 4q+3) words: lane b becomes element 8b + k's word q.
        let a = t32[k];
        let b = t32[8 + k];
        let cc = t32[16 + k];
        let d = t32[24 + k];
        let t = ((a >>> 8) ^ b) & 0x00ff00ff;
        b ^= t;
        a ^= t << 8;
        t = ((cc >>> 8) ^ d) & 0x00ff00ff;
        d ^= t;
        cc ^= t << 8;
        t = ((a >>> 16) ^ cc) & 0x0000ffff;
        cc ^= t;
        a ^= t << 16;
        t = ((b >>> 16) ^ d) & 0x0000ffff;
        d ^= t;
        b ^= t << 16;
        const e = e0 + k;
        out32[e * wpe + q] = a;
        out32[(e + 8) * wpe + q] = b;
        out32[(e + 16) * wpe + q] = cc;
        out32[(e + 24) * wpe + q] = d;
      }
    }
  }
}
