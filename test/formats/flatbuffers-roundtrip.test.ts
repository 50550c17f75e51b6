// Encode -> decode round trips, the zero-copy / copy paths of the decoders, and the encoders' input checks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeEv42,
  decodeEv44,
  decodeEvents,
  decodeHistogramMessage,
  decodeHs00,
  decodeHs01,
  decodeX5f2,
  type Ev44Input,
  encodeEv42,
  encodeEv44,
  encodeHs00,
  encodeHs01,
  encodeX5f2,
  FormatError,
  type Hs00Values,
  type Hs01Input,
  type Hs01Values,
} from "../../src/formats/flatbuffers/index.ts";
import { atOffset, randomInts, rng } from "./flatbuffers-support.ts";

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

function ev44(n: number, seed = 1): Ev44Input {
  const next = rng(seed);
  return {
    sourceName: "detector_µ-ünïcode",
    messageId: 9_007_199_254_740_993n,
    referenceTime: BigInt64Array.from([1_700_000_000_123_456_789n, 1_700_000_000_194_884_000n, I64_MIN]),
    referenceTimeIndex: Int32Array.from([0, Math.floor(n / 3), Math.floor((2 * n) / 3)]),
    timeOfFlight: Int32Array.from(randomInts(next, n, -(2 ** 31), 2 ** 31 - 1)),
    pixelId: Int32Array.from(randomInts(next, n, 0, 1_000_000)),
  };
}

describe("ev44 round trip", () => {
  it("keeps every value, including int64 extremes and non-ASCII names", () => {
    const input = ev44(10_000);
    assert.deepEqual(decodeEv44(encodeEv44(input)), { schema: "ev44", ...input });
  });

  it("returns views onto the message when aligned, copies when not", () => {
    const input = ev44(1001);
    const buf = encodeEv44(input);
    const aligned = decodeEv44(buf);
    assert.equal(aligned.timeOfFlight.buffer, buf.buffer, "aligned: zero-copy view");
    assert.equal(aligned.referenceTime.buffer, buf.buffer, "aligned: zero-copy view of int64");
    for (const shift of [1, 2, 3, 4, 5, 6, 7]) {
      const moved = atOffset(buf, shift);
      const m = decodeEv44(moved);
      assert.deepEqual(m, aligned, `byteOffset ${shift}`);
      if (shift % 4 !== 0) assert.notEqual(m.timeOfFlight.buffer, moved.buffer, "misaligned int32: copied");
      if (shift === 4) assert.equal(m.timeOfFlight.buffer, moved.buffer, "4-aligned int32: still a view");
      assert.notEqual(m.referenceTime.buffer, moved.buffer, "misaligned int64: copied");
    }
  });

  it("copies correctly out of a Node Buffer slice (what Kafka clients deliver)", () => {
    const input = ev44(333);
    const bytes = encodeEv44(input);
    const slab = Buffer.alloc(bytes.length + 64);
    for (const shift of [1, 3, 8, 13]) {
      slab.fill(0xee);
      slab.set(bytes, shift);
      assert.deepEqual(decodeEv44(slab.subarray(shift, shift + bytes.length)), { schema: "ev44", ...input });
    }
  });

  it("empty or absent pixel ids decode as undefined; empty messages work", () => {
    const input: Ev44Input = {
      sourceName: "monitor",
      messageId: 0n,
      referenceTime: new BigInt64Array(0),
      referenceTimeIndex: new Int32Array(0),
      timeOfFlight: new Int32Array(0),
      pixelId: undefined,
    };
    assert.deepEqual(decodeEv44(encodeEv44(input)), { schema: "ev44", ...input });
    const monitor = { ...input, timeOfFlight: Int32Array.from([1, 2, 3]), pixelId: new Int32Array(0) };
    assert.equal(decodeEv44(encodeEv44(monitor)).pixelId, undefined);
  });

  it("rejects inconsistent lengths and out-of-range ids", () => {
    const input = ev44(10);
    assert.throws(() => encodeEv44({ ...input, pixelId: new Int32Array(3) }), FormatError);
    assert.throws(() => encodeEv44({ ...input, referenceTimeIndex: new Int32Array(1) }), FormatError);
    assert.throws(() => encodeEv44({ ...input, messageId: 1n << 63n }), /does not fit in int64/);
  });
});

describe("ev42 round trip", () => {
  const base = {
    sourceName: "NeXus-Streamer",
    messageId: U64_MAX,
    pulseTime: 1_542_876_129_940_000_057n,
    timeOfFlight: Uint32Array.from([0, 1, 2 ** 32 - 1]),
    detectorId: Uint32Array.from([7, 8, 9]),
  };
  it("without facility data, with uint64 max", () => {
    assert.deepEqual(decodeEv42(encodeEv42(base)), { schema: "ev42", ...base });
  });
  it("with ISISData", () => {
    const m = {
      ...base,
      facilityData: { type: "ISISData" as const, periodNumber: 3, runState: 1, protonCharge: 0.5 },
    };
    assert.deepEqual(decodeEv42(encodeEv42(m)), { schema: "ev42", ...m });
  });
  it("with AdcPulseDebug", () => {
    const facilityData = {
      type: "AdcPulseDebug" as const,
      amplitude: Uint32Array.from([1, 2, 3]),
      thresholdTime: BigUint64Array.from([U64_MAX, 5n, 6n]),
    };
    const m = { ...base, facilityData };
    assert.deepEqual(decodeEv42(encodeEv42(m)), { schema: "ev42", ...m });
  });
  it("rejects negative pulse times and mismatched arrays", () => {
    assert.throws(() => encodeEv42({ ...base, pulseTime: -1n }), /uint64/);
    assert.throws(() => encodeEv42({ ...base, detectorId: new Uint32Array(2) }), FormatError);
  });
  it("decodeEvents dispatches ev42 and ev44", () => {
    assert.equal(decodeEvents(encodeEv42(base)).schema, "ev42");
    assert.equal(decodeEvents(encodeEv44(ev44(5))).schema, "ev44");
  });
});

describe("hs00 / hs01 round trip", () => {
  const h2d: Hs01Input = {
    source: "histd",
    timestamp: -5n,
    currentShape: [2, 3],
    dimMetadata: [
      { length: 2, unit: "ns", label: "tof", binBoundaries: Float64Array.from([0, 1, 2]) },
      { length: 3, unit: "", label: "", binBoundaries: Float32Array.from([0, 0.5, 1, 1.5]) },
    ],
    data: BigInt64Array.from([1n, -2n, 3n, I64_MIN, 5n, 6n]),
    errors: BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]),
    info: '{"state": "COUNTING"}',
    lastMetadataTimestamp: 42n,
  };

  it("hs01 2-d with every optional field", () => {
    assert.deepEqual(decodeHs01(encodeHs01(h2d)), { schema: "hs01", ...h2d });
  });

  it("hs01 each member type, and offset for slices", () => {
    for (const data of [
      Int32Array.from([-1, 2]),
      Float32Array.from([1.5, 2]),
      Float64Array.from([0.1, 1e300]),
    ]) {
      const h: Hs01Input = {
        timestamp: 1n,
        currentShape: [2, 1],
        offset: [0, 4],
        dimMetadata: [
          { length: 2, unit: "", label: "" },
          { length: 10, unit: "", label: "", binBoundaries: Int32Array.from({ length: 11 }, (_, i) => i) },
        ],
        data,
      };
      assert.deepEqual(decodeHs01(encodeHs01(h)), { schema: "hs01", ...h });
    }
  });

  it("hs00 unsigned members; unit/label default to empty strings", () => {
    for (const data of [Uint32Array.from([1, 2 ** 32 - 1]), BigUint64Array.from([U64_MAX, 0n])]) {
      const h = {
        timestamp: U64_MAX,
        currentShape: [2],
        dimMetadata: [{ length: 2, binBoundaries: Float64Array.from([0, 1, 2]) }],
        data,
      };
      const got = decodeHs00(encodeHs00(h));
      assert.deepEqual(got, {
        schema: "hs00",
        ...h,
        dimMetadata: [{ ...h.dimMetadata[0], unit: "", label: "" }],
      });
      assert.equal(decodeHistogramMessage(encodeHs00(h)).schema, "hs00");
    }
  });

  it("rejects types the schema cannot carry and inconsistent shapes", () => {
    const ok = {
      timestamp: 0n,
      currentShape: [2],
      dimMetadata: [{ length: 2 }],
      data: Float64Array.from([1, 2]),
    };
    assert.throws(() => encodeHs00({ ...ok, data: Uint32Array.from([1, 2]), timestamp: -1n }), /uint64/);
    // Deliberately passing types the schema cannot carry, as untyped callers could.
    assert.throws(
      () => encodeHs00({ ...ok, data: Int32Array.from([1, 2]) as unknown as Hs00Values }),
      /hs00: data cannot be int32/,
    );
    assert.throws(
      () => encodeHs01({ ...ok, data: Uint32Array.from([1, 2]) as unknown as Hs01Values }),
      /hs01: data cannot be uint32/,
    );
    assert.throws(() => encodeHs01({ ...ok, currentShape: [3] }), /data has 2 values/);
    assert.throws(() => encodeHs01({ ...ok, dimMetadata: [] }), /dim_metadata/);
    assert.throws(() => encodeHs01({ ...ok, errors: Float64Array.from([1]) }), /errors/);
    assert.throws(() => encodeHs00({ ...ok, currentShape: [2], dimMetadata: [{ length: -1 }] }), /uint32/);
  });
});

describe("x5f2 round trip", () => {
  it("keeps every field", () => {
    const s = {
      softwareName: "histd",
      softwareVersion: "0.1.0",
      serviceId: "histd-1",
      hostName: "host",
      processId: 2 ** 32 - 1,
      updateInterval: 2000,
      statusJson: JSON.stringify({ state: "ok", histograms: [] }),
    };
    assert.deepEqual(decodeX5f2(encodeX5f2(s)), { schema: "x5f2", ...s });
  });
});
