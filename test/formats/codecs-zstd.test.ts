// zstd from Python's zstandard must decode byte-exactly; corrupt input throws CodecError; bombs stop at the limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CodecError, decodeZstd } from "../../src/formats/codecs/index.ts";
import { runPythonJson } from "../support/python.ts";

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

const cases = runPythonJson<{ name: string; raw: string; comp: string }[]>(`
import base64, json
import numpy as np
import zstandard as zstd
rng = np.random.default_rng(9)
out = []
for n in [0, 1, 1000, 3_000_000]:
    a = np.floor(np.abs(rng.normal(size=n)) * 10).astype("<f8").tobytes()
    for level in [1, 3, 19]:
        for opts in [dict(), dict(write_checksum=True), dict(write_content_size=False)]:
            c = zstd.ZstdCompressor(level=level, **opts).compress(a)
            out.append({"name": f"n={n} level={level} {opts}", "raw": base64.b64encode(a).decode(),
                        "comp": base64.b64encode(c).decode()})
print(json.dumps(out))
`);

const isCodecError = (e: unknown) => e instanceof CodecError;

test("decodes Python zstandard output byte-exactly", () => {
  for (const c of cases) {
    assert.deepEqual(Buffer.from(decodeZstd(b64(c.comp), 1 << 26)), Buffer.from(b64(c.raw)), c.name);
  }
});

test("corrupt and truncated input throws CodecError", () => {
  const c = cases.find((x) => x.name.includes("n=3000000") && x.name.includes("checksum"))!;
  const comp = b64(c.comp);
  assert.throws(() => decodeZstd(comp.subarray(0, comp.length - 10), 1 << 26), isCodecError);
  assert.throws(() => decodeZstd(comp.subarray(1), 1 << 26), isCodecError);
  assert.throws(() => decodeZstd(new Uint8Array(0), 1 << 26), isCodecError);
  const bad = comp.slice();
  bad[bad.length - 1] ^= 0xff; // content checksum
  assert.throws(() => decodeZstd(bad, 1 << 26), isCodecError);
});

test("decompression bombs stop at the output limit", () => {
  const bomb = runPythonJson<{ sized: string; unsized: string }>(`
import base64, json, zstandard as zstd
z = bytes(300_000_000)
print(json.dumps({"sized": base64.b64encode(zstd.ZstdCompressor().compress(z)).decode(),
                  "unsized": base64.b64encode(zstd.ZstdCompressor(write_content_size=False).compress(z)).decode()}))
`);
  const before = process.memoryUsage().arrayBuffers;
  for (const s of [bomb.sized, bomb.unsized]) {
    assert.throws(
      () => decodeZstd(b64(s), 1 << 20),
      (e: unknown) => isCodecError(e) && /limit/.test(String(e)),
    );
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
});
