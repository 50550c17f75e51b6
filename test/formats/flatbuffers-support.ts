// Shared helpers for the FlatBuffers codec tests: golden-file loading, array summaries, a seeded RNG.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { sharedDir } from "../support/python.ts";

export const goldenDir = resolve(sharedDir, "golden");

export function golden(name: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(goldenDir, name)));
}

export function goldenJson<T>(name: string): T {
  return JSON.parse(readFileSync(resolve(goldenDir, name), "utf8")) as T;
}

/** The decoded summary expected.json gives for an array. Integers above 2^53-1 are decimal strings. */
export interface ArraySummary {
  len: number;
  first: (number | string)[];
  last: (number | string)[];
  min: number | string;
  max: number | string;
  sum: number | string;
}

type AnyArray = ArrayLike<number> | ArrayLike<bigint>;

function isBig(a: AnyArray): a is ArrayLike<bigint> {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** Asserts an array matches an expected.json summary; integer sums are compared exactly in bigint. */
export function assertSummary(actual: AnyArray, want: ArraySummary, what: string): void {
  assert.equal(actual.length, want.len, `${what}: length`);
  const values: (number | bigint)[] = Array.from(actual as ArrayLike<number | bigint>);
  const asNum = (v: number | bigint) => Number(v);
  assert.deepEqual(values.slice(0, want.first.length).map(asNum), want.first.map(Number), `${what}: first`);
  assert.deepEqual(
    values.slice(values.length - want.last.length).map(asNum),
    want.last.map(Number),
    `${what}: last`,
  );
  const integer = isBig(actual) || actual instanceof Int32Array || actual instanceof Uint32Array;
  if (integer) {
    const big = values.map((v) => BigInt(v));
    let [min, max, sum] = [big[0], big[0], 0n];
    for (const v of big) {
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.equal(sum, BigInt(want.sum), `${what}: sum`);
    assert.equal(min, BigInt(want.min), `${what}: min`);
    assert.equal(max, BigInt(want.max), `${what}: max`);
  } else {
    const nums = values.map(asNum);
    assert.equal(
      nums.reduce((s, v) => s + v, 0),
      Number(want.sum),
      `${what}: sum`,
    );
    assert.equal(Math.min(...nums), Number(want.min), `${what}: min`);
    assert.equal(Math.max(...nums), Number(want.max), `${what}: max`);
  }
}

/** Deterministic xorshift32 so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function randomInts(next: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + Math.floor(next() * (hi - lo)));
}

/** Copies `bytes` to a given byte offset of a fresh ArrayBuffer, to force the misaligned (copying) decode path. */
export function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(bytes.length + offset + 8), offset, bytes.length);
  out.set(bytes);
  return out;
}
