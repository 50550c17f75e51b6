// LZ4 frames from Python's lz4.frame (every block size / linking / checksum option) must decode byte-exactly,
// bad frames must throw CodecError, and encodeLz4Frame's output must be what Python's lz4.frame reads back.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { CodecError, decodeLz4Frame, encodeLz4Frame } from "../../src/formats/codecs/index.ts";
import { runPython, runPythonJson } from "../support/python.ts";

interface Case {
  name: string;
  raw: string;
  comp: string;
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

const cases = runPythonJson<Case[]>(`
import base64, json
import lz4.frame as F
import numpy as np
rng = np.random.default_rng(5)
def data(n):
    a = np.zeros(n, dtype=np.uint8)
    a[n // 2 :] = rng.integers(0, 4, size=n - n // 2)  # low-entropy half, zero half
    a[: n // 8] = rng.integers(0, 256, size=n // 8)     # incompressible head
    return a.tobytes()
out = []
for n in [0, 1, 15, 300, 70000, 1_500_000]:
    raw = data(n)
    for bs in [F.BLOCKSIZE_MAX64KB, F.BLOCKSIZE_MAX256KB, F.BLOCKSIZE_MAX1MB, F.BLOCKSIZE_MAX4MB]:
        for linked in [True, False]:
            for opts in [dict(), dict(content_checksum=True, block_checksum=True), dict(store_size=False, compression_level=12)]:
                c = F.compress(raw, block_size=bs, block_linked=linked, **opts)
                out.append({"name": f"n={n} bs={bs} linked={linked} {opts}", "raw": base64.b64encode(raw).decode(),
                            "comp": base64.b64encode(c).decode()})
print(json.dumps(out))
`);

test("decodes Python lz4.frame output byte-exactly", () => {
  assert.ok(cases.length > 100);
  for (const c of cases) {
    const raw = b64(c.raw);
    assert.deepEqual(Buffer.from(decodeLz4Frame(b64(c.comp), 1 << 24)), Buffer.from(raw), c.name);
  }
});

test("concatenated frames decode to the concatenation", () => {
  const a = cases.find((c) => c.name.startsWith("n=300 "))!;
  const b = cases.find((c) => c.name.startsWith("n=70000 "))!;
  const both = Buffer.concat([b64(a.comp), b64(b.comp)]);
  assert.deepEqual(Buffer.from(decodeLz4Frame(both, 1 << 24)), Buffer.concat([b64(a.raw), b64(b.raw)]));
});

function isCodecError(e: unknown): boolean {
  assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
  return true;
}

test("corrupt, truncated and checksum-failing frames throw CodecError", () => {
  const c = cases.find((x) => x.name.includes("n=1500000") && x.name.includes("content_checksum"))!;
  const comp = b64(c.comp);
  assert.throws(() => decodeLz4Frame(comp.subarray(0, comp.length - 5), 1 << 24), isCodecError);
  assert.throws(() => decodeLz4Frame(comp.subarray(0, 3), 1 << 24), isCodecError);
  const badMagic = comp.slice();
  badMagic[0] ^= 1;
  assert.throws(() => decodeLz4Frame(badMagic, 1 << 24), isCodecError);
  const badHeader = comp.slice();
  badHeader[5] ^= 0x10; // block size code, covered by the header checksum
  assert.throws(() => decodeLz4Frame(badHeader, 1 << 24), isCodecError);
  let seed = 99;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 200; i++) {
    const bad = comp.slice();
    bad[20 + Math.floor(rand() * (comp.length - 20))] ^= 1 << Math.floor(rand() * 8);
    // Block and content checksums are on, so every flip must be detected.
    assert.throws(() => decodeLz4Frame(bad, 1 << 24), isCodecError);
  }
});

test("decompression bombs stop at the output limit", () => {
  const bombs = runPythonJson<{ sized: string; unsized: string }>(`
import base64, json
import lz4.frame as F
z = bytes(200_000_000)
print(json.dumps({"sized": base64.b64encode(F.compress(z)).decode(),
                  "unsized": base64.b64encode(F.compress(z, store_size=False)).decode()}))
`);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => decodeLz4Frame(b64(bombs.sized), 10 << 20), /declared content size/);
  assert.throws(() => decodeLz4Frame(b64(bombs.unsized), 10 << 20), /exceed/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
  assert.equal(decodeLz4Frame(b64(bombs.unsized), 200_000_000).length, 200_000_000);
});

test("encodeLz4Frame output is read back exactly by Python's lz4.frame", () => {
  const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array([7]), new Uint8Array(10_000_000)];
  const mixed = new Float64Array(1_200_000);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 7 === 0 ? Math.sin(i) : i % 100;
  inputs.push(new Uint8Array(mixed.buffer));
  const noise = new Uint8Array(5_000_000);
  for (let i = 0; i < noise.length; i++) noise[i] = (Math.imul(i, 2654435761) >>> 13) & 255;
  inputs.push(noise);
  for (const raw of inputs) {
    const framed = encodeLz4Frame(raw);
    const digest = runPython(
      "import hashlib, sys, lz4.frame\nd = lz4.frame.decompress(sys.stdin.buffer.read())\nprint(len(d), hashlib.sha256(d).hexdigest())",
      framed,
    ).trim();
    assert.equal(digest, `${raw.length} ${createHash("sha256").update(raw).digest("hex")}`);
    assert.deepEqual(Buffer.from(decodeLz4Frame(framed, raw.length)), Buffer.from(raw));
  }
});
