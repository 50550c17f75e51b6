// A seeded mutation fuzzer for hostile-input tests: byte-level mutations of real messages (bit flips, byte
// insert/delete, truncation, length-field and offset tampering, splices of two seeds, huge counts and sizes),
// a fixed iteration budget, a per-input time limit and a check that memory stays bounded. Every failure names
// the fuzzer's seed, the iteration and the input as hex (also written to artifacts/fuzz/), and can be replayed:
//   FUZZ_SEED=<seed> node --test test/fuzz/<file>.test.ts          (the same run)
//   FUZZ_REPLAY=<hex> node --test test/fuzz/<file>.test.ts         (only that input)
//   FUZZ_ITERATIONS=<n> scales every budget (e.g. for a long local run).
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./python.ts";

/** Deterministic xorshift32 in [0, 1). */
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

export type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Values that find off-by-ones and overflows when written over a length, count or offset. */
const INTERESTING_32 = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
  1e6,
  1e8,
  2 ** 28,
  2 ** 30,
];

/** A protobuf varint of `v` (up to 2^64 - 1). */
export function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return Uint8Array.from(out);
}

const HUGE_VARINTS = [
  2n ** 31n - 1n,
  2n ** 32n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 64n - 1n,
  1n << 40n,
  1000000000n,
];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One random mutation of `input` (another seed may be spliced in). */
export function mutateOnce(r: Rand, input: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const at = (extra = 0) => int(r, Math.max(1, n - extra));
  switch (int(r, 12)) {
    case 0: {
      // bit flips
      const out = input.slice();
      for (let k = 1 + int(r, 4); k > 0 && n > 0; k--) out[at()] ^= 1 << int(r, 8);
      return out;
    }
    case 1: {
      // random bytes
      const out = input.slice();
      for (let k = 1 + int(r, 4); k > 0 && n > 0; k--) out[at()] = int(r, 256);
      return out;
    }
    case 2: {
      // insert bytes
      const p = int(r, n + 1);
      const ins = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
      return concat(input.subarray(0, p), ins, input.subarray(p));
    }
    case 3: {
      // delete a range
      const p = at();
      const len = 1 + int(r, 16);
      return concat(input.subarray(0, p), input.subarray(p + len));
    }
    case 4:
      // truncate
      return input.slice(0, int(r, n + 1));
    case 5: {
      // a 32-bit length/offset/count field overwritten (aligned or not)
      if (n < 4) return input.slice();
      const out = input.slice();
      const p = r() < 0.5 ? at(3) & ~3 : at(3);
      const v = r() < 0.7 ? INTERESTING_32[int(r, INTERESTING_32.length)] : (n + int(r, 64) - 32) >>> 0;
      new DataView(out.buffer).setUint32(Math.min(p, n - 4), v >>> 0, true);
      return out;
    }
    case 6: {
      // a 16-bit field (FlatBuffers vtable entries) overwritten
      if (n < 2) return input.slice();
      const out = input.slice();
      const p = Math.min(at(1) & ~1, n - 2);
      new DataView(out.buffer).setUint16(p, r() < 0.5 ? 0xffff - int(r, 8) : int(r, Math.max(1, n)), true);
      return out;
    }
    case 7: {
      // an offset field nudged by a small amount
      if (n < 4) return input.slice();
      const out = input.slice();
      const dv = new DataView(out.buffer);
      const p = Math.min(at(3) & ~3, n - 4);
      dv.setUint32(p, (dv.getUint32(p, true) + int(r, 17) - 8) >>> 0, true);
      return out;
    }
    case 8: {
      // splice: the head of this input with the tail of another seed
      const other = seeds.length > 0 ? seeds[int(r, seeds.length)] : input;
      return concat(input.subarray(0, int(r, n + 1)), other.subarray(int(r, other.length + 1)));
    }
    case 9: {
      // duplicate a chunk in place (repeated fields, repeated tables)
      const p = at();
      const len = 1 + int(r, 64);
      const chunk = input.subarray(p, p + len);
      return concat(input.subarray(0, p + chunk.length), chunk, input.subarray(p + chunk.length));
    }
    case 10: {
      // a huge varint (protobuf lengths and counts) written over a byte
      const p = at();
      const v = varint(HUGE_VARINTS[int(r, HUGE_VARINTS.length)]);
      return concat(input.subarray(0, p), v, input.subarray(p + 1));
    }
    default: {
      // a 64-bit field set to a huge value
      if (n < 8) return input.slice();
      const out = input.slice();
      const p = Math.min(at(7), n - 8);
      new DataView(out.buffer).setBigUint64(
        p,
        r() < 0.5 ? 2n ** 63n - 1n : 2n ** 64n - 1n - BigInt(int(r, 4)),
        true,
      );
      return out;
    }
  }
}

/** A seed with 1-4 stacked mutations. */
export function mutate(r: Rand, seeds: readonly Uint8Array[]): Uint8Array {
  let x = seeds[int(r, seeds.length)];
  for (let k = 1 + int(r, 4); k > 0; k--) x = mutateOnce(r, x, seeds);
  return x;
}

/** Numbers that break sizes and ranges when put in place of a JSON number. */
const INTERESTING_NUMBERS = [
  "0",
  "-1",
  "1e308",
  "-1e308",
  "1e9",
  "2147483648",
  "4294967296",
  "9007199254740993",
  "1.5",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e-320",
  "-0.0",
  "100000000",
  "65536",
  "3",
  "true",
  "null",
  '"1"',
  "[]",
  "{}",
];
const INTERESTING_SNIPPETS = ['{"a":', "[[[[[[", "]]]", '"\\ud800"', '"\\u0000"', ",", ":", '"', "{}", "[]"];

/** Text mutations that keep JSON mostly valid: numbers swapped for hostile ones, values replaced, bytes mangled. */
export function mutateJson(r: Rand, seeds: readonly string[]): string {
  let s = seeds[int(r, seeds.length)];
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const choice = int(r, 6);
    if (choice === 0) {
      // replace a number
      const nums = [...s.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
      if (nums.length === 0) continue;
      const m = nums[int(r, nums.length)];
      s =
        s.slice(0, m.index) +
        INTERESTING_NUMBERS[int(r, INTERESTING_NUMBERS.length)] +
        s.slice(m.index + m[0].length);
    } else if (choice === 1) {
      // replace a string value with another type or a hostile string
      const strs = [...s.matchAll(/"(?:[^"\\]|\\.)*"/g)];
      if (strs.length === 0) continue;
      const m = strs[int(r, strs.length)];
      const rep =
        r() < 0.5 ? INTERESTING_NUMBERS[int(r, INTERESTING_NUMBERS.length)] : `"${"x".repeat(int(r, 300))}"`;
      s = s.slice(0, m.index) + rep + s.slice(m.index + m[0].length);
    } else if (choice === 2) {
      // duplicate a [...] list's contents (longer arrays, repeated keys)
      const p = s.indexOf("[", int(r, s.length));
      const q = p < 0 ? -1 : s.indexOf("]", p);
      if (q < 0) continue;
      const body = s.slice(p + 1, q);
      if (body.trim() === "") continue;
      s = `${s.slice(0, q)}, ${body}${s.slice(q)}`;
    } else if (choice === 3) {
      const p = int(r, s.length + 1);
      s = s.slice(0, p) + INTERESTING_SNIPPETS[int(r, INTERESTING_SNIPPETS.length)] + s.slice(p);
    } else if (choice === 4) {
      // splice with another seed
      const o = seeds[int(r, seeds.length)];
      s = s.slice(0, int(r, s.length + 1)) + o.slice(int(r, o.length + 1));
    } else {
      s = new TextDecoder().decode(mutateOnce(r, new TextEncoder().encode(s), []));
    }
  }
  return s;
}

export const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

export interface FuzzOptions {
  /** Names the run in messages and artifact files. */
  name: string;
  /** The fuzzer's seed (FUZZ_SEED overrides it). */
  seed: number;
  iterations: number;
  /** Any single input taking longer fails the run (default 1000 ms). */
  maxInputMs?: number;
  /** Most the process's RSS may grow over the run (default 512 MiB), and most array-buffer memory one input
   * may leave allocated behind it (default 256 MiB): an input that makes the code allocate without bound. */
  maxRssGrowthMiB?: number;
  maxInputArrayBufferMiB?: number;
}

export interface FuzzReport {
  seed: number;
  iterations: number;
  ms: number;
  slowestMs: number;
  rssGrowthMiB: number;
  /** How the inputs ended, by the outcome label `run` returned ("ok", an error class, ...). */
  outcomes: Map<string, number>;
}

const MiB = 2 ** 20;

/**
 * Runs `iterations` inputs from `generate` through `run`. `run` returns an outcome label for the statistics
 * and throws only for a finding (a crash, a wrong kind of error, an unclear message): the harness then fails
 * with the seed, the iteration and the input in hex.
 */
export async function fuzz<T extends Uint8Array | string>(
  opts: FuzzOptions,
  generate: (r: Rand) => T,
  run: (input: T) => string | Promise<string>,
): Promise<FuzzReport> {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : opts.seed;
  const scale = process.env.FUZZ_ITERATIONS ? Number(process.env.FUZZ_ITERATIONS) / 10_000 : 1;
  const replay = process.env.FUZZ_REPLAY;
  const iterations = replay ? 1 : Math.max(1, Math.round(opts.iterations * scale));
  const maxInputMs = opts.maxInputMs ?? 1000;
  const r = rng(seed);
  const outcomes = new Map<string, number>();
  const mem0 = process.memoryUsage();
  let peakRss = mem0.rss;
  let slowestMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    let input = generate(r);
    if (replay) {
      const bytes = Uint8Array.from(Buffer.from(replay, "hex"));
      input = (typeof input === "string" ? new TextDecoder().decode(bytes) : bytes) as T;
    }
    const fail = (why: string): never => {
      const bytes = typeof input === "string" ? new TextEncoder().encode(input) : (input as Uint8Array);
      const hex = toHex(bytes);
      const dir = resolve(repoRoot, "artifacts/fuzz");
      mkdirSync(dir, { recursive: true });
      const file = resolve(dir, `${opts.name.replace(/\W+/g, "_")}-seed${seed}-iter${i}.hex`);
      writeFileSync(file, `${hex}\n`);
      const shown =
        typeof input === "string" ? `\ninput (text): ${JSON.stringify(input.slice(0, 2000))}` : "";
      throw new Error(
        `fuzz ${opts.name}: ${why}\nseed ${seed}, iteration ${i} (rerun: FUZZ_SEED=${seed}; replay: FUZZ_REPLAY=<hex>)` +
          `\ninput (${bytes.length} bytes, hex, also in ${file}):\n${hex}${shown}`,
      );
    };
    const ab0 = process.memoryUsage().arrayBuffers;
    const s = performance.now();
    let outcome: string;
    try {
      outcome = await run(input);
    } catch (e) {
      return fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
    }
    const dt = performance.now() - s;
    slowestMs = Math.max(slowestMs, dt);
    if (dt > maxInputMs) fail(`one input took ${dt.toFixed(0)} ms (limit ${maxInputMs} ms)`);
    const mem = process.memoryUsage();
    if (mem.arrayBuffers - ab0 > (opts.maxInputArrayBufferMiB ?? 256) * MiB)
      fail(`one input left ${((mem.arrayBuffers - ab0) / MiB).toFixed(0)} MiB of array buffers allocated`);
    peakRss = Math.max(peakRss, mem.rss);
    if (peakRss - mem0.rss > (opts.maxRssGrowthMiB ?? 512) * MiB)
      fail(`RSS grew by ${((peakRss - mem0.rss) / MiB).toFixed(0)} MiB over the run`);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const report: FuzzReport = {
    seed,
    iterations,
    ms: performance.now() - t0,
    slowestMs,
    rssGrowthMiB: (peakRss - mem0.rss) / MiB,
    outcomes,
  };
  console.log(
    `fuzz ${opts.name}: seed ${seed}, ${iterations} inputs in ${(report.ms / 1000).toFixed(1)} s ` +
      `(slowest ${slowestMs.toFixed(1)} ms, RSS +${report.rssGrowthMiB.toFixed(0)} MiB): ` +
      [...outcomes].map(([k, v]) => `${k} ${v}`).join(", "),
  );
  return report;
}
