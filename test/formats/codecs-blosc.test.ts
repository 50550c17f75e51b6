// Blosc1 frames written by Python's numcodecs (c-blosc) must decode byte-exactly; corrupt frames must throw
// CodecError (never another error, never the wrong length) and an oversize claim must be refused up front.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CodecError, decodeBlosc, parseBloscHeader } from "../../src/formats/codecs/index.ts";
import { runPython, runPythonJson } from "../support/python.ts";

interface Case {
  name: string;
  raw: string;
  comp: string;
}

const cases = runPythonJson<Case[]>(`
import base64, json
import numpy as np
from numcodecs import Blosc
rng = np.random.default_rng(7)
out = []
def arr(dtype, n):
    x = rng.normal(0, 50, size=n)
    if np.dtype(dtype).kind == "i":
        x = np.round(x)
    # Mix runs (like empty histogram bins) with noise so every codec path (matches, literals, raw splits) is hit.
    x[: n // 3] = 0
    return x.astype(dtype)
shuffles = {"noshuffle": Blosc.NOSHUFFLE, "shuffle": Blosc.SHUFFLE, "bitshuffle": Blosc.BITSHUFFLE}
for dtype in ["<f4", "<f8", "<i4", "<i8", "<i2", "u1"]:
    for cname in ["zstd", "lz4", "lz4hc", "blosclz", "zlib"]:
        for sname, shuffle in shuffles.items():
            for n, clevel, blocksize in [(1, 5, 0), (37, 9, 0), (1000, 5, 0), (100003, 9, 0), (70001, 5, 4000), (5000, 0, 0)]:
                a = arr(dtype, n)
                c = Blosc(cname=cname, clevel=clevel, shuffle=shuffle, blocksize=blocksize).encode(a)
                out.append({"name": f"{dtype} {cname} {sname} n={n} clevel={clevel} bs={blocksize}",
                            "raw": base64.b64encode(a.tobytes()).decode(), "comp": base64.b64encode(bytes(c)).decode()})
print(json.dumps(out))
`);

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

test("decodes numcodecs Blosc frames byte-exactly (dtypes x codecs x shuffles x sizes)", () => {
  assert.ok(cases.length > 500);
  for (const c of cases) {
    const raw = b64(c.raw);
    const got = decodeBlosc(b64(c.comp), raw.length);
    assert.deepEqual(Buffer.from(got), Buffer.from(raw), c.name);
  }
});

function haasFrame(): { raw: Uint8Array; comp: Uint8Array } {
  const c = cases.find((x) => x.name.startsWith("<f8 zstd bitshuffle n=100003"))!;
  return { raw: b64(c.raw), comp: b64(c.comp) };
}

function expectCodecError(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test("header checks: version, cbytes, nbytes, flags", () => {
  const { raw, comp } = haasFrame();
  const h = parseBloscHeader(comp);
  assert.equal(h.codec, "zstd");
  assert.equal(h.shuffle, "bit");
  assert.equal(h.typesize, 8);
  expectCodecError(() => decodeBlosc(comp, raw.length - 8), /expected/);
  expectCodecError(() => decodeBlosc(comp.subarray(0, comp.length - 1), raw.length), /compressed bytes/);
  expectCodecError(() => decodeBlosc(comp.subarray(0, 10), raw.length), /header/);
  const v3 = comp.slice();
  v3[0] = 3;
  expectCodecError(() => decodeBlosc(v3, raw.length), /version/);
  const badCodec = comp.slice();
  badCodec[2] = (badCodec[2] & 0x1f) | (7 << 5);
  expectCodecError(() => decodeBlosc(badCodec, raw.length), /codec/);
  const snappy = comp.slice();
  snappy[2] = (snappy[2] & 0x1f) | (2 << 5);
  expectCodecError(() => decodeBlosc(snappy, raw.length), /snappy/);
  const appended = new Uint8Array(comp.length + 4);
  appended.set(comp);
  expectCodecError(() => decodeBlosc(appended, raw.length), /compressed bytes/);
});

test("lying block offsets and split sizes are caught before decoding", () => {
  const { raw, comp } = haasFrame();
  const view = new DataView(comp.buffer, comp.byteOffset, comp.length);
  const badStart = comp.slice();
  new DataView(badStart.buffer).setInt32(16, comp.length + 100, true);
  expectCodecError(() => decodeBlosc(badStart, raw.length), /outside/);
  const badSplit = comp.slice();
  const firstBlock = view.getInt32(16, true);
  new DataView(badSplit.buffer).setInt32(firstBlock, 1 << 30, true);
  expectCodecError(() => decodeBlosc(badSplit, raw.length), /invalid size/);
  // A frame claiming 4x more data than it carries (nbytes and expectedBytes agreeing) has too few offsets/blocks.
  const bigger = comp.slice();
  new DataView(bigger.buffer).setInt32(4, raw.length * 4, true);
  expectCodecError(() => decodeBlosc(bigger, raw.length * 4));
});

test("an oversize claim is refused before allocating", () => {
  const { comp } = haasFrame();
  const huge = comp.slice();
  const claim = 2 ** 31 - 64;
  new DataView(huge.buffer).setInt32(4, claim, true);
  new DataView(huge.buffer).setInt32(8, claim, true);
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  expectCodecError(() => decodeBlosc(huge, claim), /limit/);
  // Raising the limit still fails on structure (one block whose split is far too small), without allocating.
  expectCodecError(() => decodeBlosc(huge, claim, 2 ** 31));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, "allocated a large buffer");
  assert.ok(performance.now() - t0 < 1000);
});

test("random corruption only ever yields CodecError or exactly the expected number of bytes", () => {
  const { raw, comp } = haasFrame();
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let thrown = 0;
  for (let i = 0; i < 300; i++) {
    const bad = comp.slice();
    const flips = 1 + Math.floor(rand() * 4);
    // Bias towards the header and block tables, where structure lives.
    for (let f = 0; f < flips; f++) {
      const pos =
        rand() < 0.5 ? Math.floor(rand() * Math.min(comp.length, 200)) : Math.floor(rand() * comp.length);
      bad[pos] ^= 1 << Math.floor(rand() * 8);
    }
    try {
      const out = decodeBlosc(bad, raw.length);
      assert.equal(out.length, raw.length);
    } catch (e) {
      assert.ok(e instanceof CodecError, `non-CodecError: ${String(e)}`);
      thrown++;
    }
  }
  assert.ok(thrown > 100);
});

test("100 MB float64 zstd clevel 9 + BITSHUFFLE (HaaS wire format): exact and fast", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "histd-blosc-"));
  try {
    const file = join(dir, "a.blosc");
    const digest = runPython(
      `
import hashlib, sys
import numpy as np
from numcodecs import Blosc
a = np.floor(np.abs(np.random.default_rng(3).normal(size=12_500_000)) * 1000) / 7
open(sys.argv[1], "wb").write(Blosc(cname="zstd", clevel=9, shuffle=Blosc.BITSHUFFLE).encode(a))
print(hashlib.sha256(a.tobytes()).hexdigest())
`,
      "",
      [file],
    ).trim();
    const comp = new Uint8Array(readFileSync(file));
    let best = Infinity;
    let out: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      out = decodeBlosc(comp, 100_000_000);
      best = Math.min(best, performance.now() - t0);
    }
    assert.equal(createHash("sha256").update(out).digest("hex"), digest);
    t.diagnostic(
      `100 MB float64 -> ${comp.length} B; decode ${best.toFixed(0)} ms = ${(100 / (best / 1000)).toFixed(0)} MB/s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
