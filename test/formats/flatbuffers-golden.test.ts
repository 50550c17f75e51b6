// Decodes the golden messages in ../shared/golden (real producer output and Python-generated cases) and
// checks them against expected.json / manifest.json; re-encodes them and checks the bytes where the
// Python build order is reproducible.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DimensionMetadata, HistogramFields } from "../../src/formats/flatbuffers/histogram.ts";
import {
  decodeEv42,
  decodeEv44,
  decodeHs00,
  decodeHs01,
  decodeMessage,
  decodeX5f2,
  type Ev42Input,
  type Ev44Input,
  encodeEv42,
  encodeEv44,
  encodeHs00,
  encodeHs01,
  encodeX5f2,
  FormatError,
  type Hs00Values,
  type Hs01Values,
  readFileIdentifier,
  type StatusInput,
} from "../../src/formats/flatbuffers/index.ts";
import type { NumericArray } from "../../src/formats/flatbuffers/writer.ts";
import { type ArraySummary, assertSummary, golden, goldenJson } from "./flatbuffers-support.ts";

type Json = Record<string, unknown>;
const expected = goldenJson<Record<string, Json>>("expected.json");

describe("golden ev42", () => {
  for (const name of ["example_ev42_fb.dat", "python-sdt-tests/ev42.bin"]) {
    it(name, () => {
      const want = expected[name];
      const buf = golden(name);
      assert.equal(buf.length, want.bytes);
      assert.equal(readFileIdentifier(buf), "ev42");
      const m = decodeEv42(buf);
      assert.equal(m.sourceName, want.source_name);
      assert.equal(m.messageId, BigInt(want.message_id as string));
      assert.equal(m.pulseTime, BigInt(want.pulse_time as string));
      assertSummary(m.timeOfFlight, want.time_of_flight as ArraySummary, "time_of_flight");
      assertSummary(m.detectorId, want.detector_id as ArraySummary, "detector_id");
      if (want.facility_specific_data_type === 0) {
        assert.equal(m.facilityData, undefined);
      } else {
        const f = want.facility_specific_data as Json;
        assert.deepEqual(m.facilityData, {
          type: "ISISData",
          periodNumber: f.period_number,
          runState: f.run_state,
          protonCharge: f.proton_charge,
        });
      }
    });
  }

  it("re-encodes the Python-written ev42.bin byte for byte", () => {
    const buf = golden("python-sdt-tests/ev42.bin");
    const { schema: _, ...input } = decodeEv42(buf);
    assert.deepEqual(encodeEv42(input), buf);
  });
});

describe("golden ev44", () => {
  it("example_ev44_fb.dat", () => {
    const want = expected["example_ev44_fb.dat"];
    const buf = golden("example_ev44_fb.dat");
    const m = decodeEv44(buf);
    assert.equal(m.sourceName, want.source_name);
    assert.equal(m.messageId, BigInt(want.message_id as string));
    assert.deepEqual(Array.from(m.referenceTime), (want.reference_time as string[]).map(BigInt));
    assert.deepEqual(Array.from(m.referenceTimeIndex), want.reference_time_index);
    assertSummary(m.timeOfFlight, want.time_of_flight as ArraySummary, "time_of_flight");
    assert.ok(m.pixelId);
    assertSummary(m.pixelId, want.pixel_id as ArraySummary, "pixel_id");
  });

  it("re-encodes example_ev44_fb.dat byte for byte", () => {
    const buf = golden("example_ev44_fb.dat");
    const { schema: _, ...input } = decodeEv44(buf);
    assert.deepEqual(encodeEv44(input), buf);
  });
});

function checkHistogram(name: string, h: HistogramFields<NumericArray>): void {
  const want = expected[name];
  assert.equal(h.source, want.source);
  assert.equal(h.timestamp, BigInt(want.timestamp as string | number));
  assert.equal(h.lastMetadataTimestamp ?? 0n, BigInt(want.last_metadata_timestamp as number));
  assert.deepEqual(h.currentShape, want.current_shape);
  assert.equal(h.offset, undefined);
  assert.equal(h.info, want.info);
  const dims = want.dim_metadata as Json[];
  assert.equal(h.dimMetadata.length, dims.length);
  dims.forEach((d, i) => {
    const got = h.dimMetadata[i];
    assert.equal(got.length, d.length);
    assert.equal(got.unit, d.unit ?? undefined);
    assert.equal(got.label, d.label ?? undefined);
    assert.equal(d.bin_boundaries_type, 3);
    assert.ok(got.binBoundaries instanceof Float64Array);
    assertSummary(got.binBoundaries, d.bin_boundaries as ArraySummary, `dim ${i} bin_boundaries`);
  });
  const data = want.data as Json;
  assert.equal(data.union_type, 3);
  assert.ok(h.data instanceof Float64Array);
  assertSummary(h.data, data.value as ArraySummary, "data");
  assert.equal((want.errors as Json).union_type, 0);
  assert.equal(h.errors, undefined);
}

describe("golden hs00 / hs01", () => {
  it("example_hs00_fb.dat (clobbered vtable size is tolerated)", () => {
    checkHistogram("example_hs00_fb.dat", decodeHs00(golden("example_hs00_fb.dat")));
  });
  it("python-sdt-tests/hs01.bin", () => {
    const h = decodeHs01(golden("python-sdt-tests/hs01.bin"));
    checkHistogram("python-sdt-tests/hs01.bin", h);
    assert.equal(Array.from(h.data as Float64Array).filter((v) => v !== 0).length, 9255);
  });
});

// --- python-sdt-generated: inputs from manifest.json, outputs of the official Python serialisers ---

interface NpArray {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}
interface Case {
  bytes: number;
  inputs: Json;
  note?: string;
}
const manifest = goldenJson<Record<string, Case>>("python-sdt-generated/manifest.json");

const big = (v: unknown) => BigInt(v as number | string);

function npArray(a: NpArray, schema: "hs00" | "hs01"): NumericArray {
  switch (a.dtype) {
    case "float64":
      return Float64Array.from(a.values.map(Number));
    case "float32":
      return Float32Array.from(a.values.map(Number));
    case "uint32":
      return Uint32Array.from(a.values.map(Number));
    case "int32":
      return Int32Array.from(a.values.map(Number));
    // Python writes int64 into hs00's only 64-bit member, ArrayULong.
    case "int64":
      return schema === "hs00"
        ? BigUint64Array.from(a.values.map(big))
        : BigInt64Array.from(a.values.map(big));
    case "uint64":
      return BigUint64Array.from(a.values.map(big));
    default:
      throw new Error(`unexpected dtype ${a.dtype}`);
  }
}

function histogramInput(i: Json, schema: "hs00" | "hs01"): HistogramFields<NumericArray> {
  const h: HistogramFields<NumericArray> = {
    timestamp: big(i.timestamp),
    currentShape: i.current_shape as number[],
    // Python always writes unit and label, as "" when not given.
    dimMetadata: (i.dim_metadata as Json[]).map(
      (d): DimensionMetadata<NumericArray> => ({
        length: d.length as number,
        unit: (d.unit as string | undefined) ?? "",
        label: (d.label as string | undefined) ?? "",
        binBoundaries: npArray(d.bin_boundaries as NpArray, schema),
      }),
    ),
    data: npArray(i.data as NpArray, schema),
  };
  if (i.source !== undefined) h.source = i.source as string;
  if (i.info !== undefined) h.info = i.info as string;
  if (i.errors !== undefined) h.errors = npArray(i.errors as NpArray, schema);
  if (i.last_metadata_timestamp !== undefined) h.lastMetadataTimestamp = big(i.last_metadata_timestamp);
  return h;
}

function ev42Input(i: Json): Ev42Input {
  const m: Ev42Input = {
    sourceName: i.source_name as string,
    messageId: big(i.message_id),
    pulseTime: big(i.pulse_time),
    timeOfFlight: Uint32Array.from(i.time_of_flight as number[]),
    detectorId: Uint32Array.from(i.detector_id as number[]),
  };
  const isis = i.isis_specific as Json | undefined;
  if (isis) {
    m.facilityData = {
      type: "ISISData",
      periodNumber: isis.period_number as number,
      runState: isis.run_state as number,
      // Stored as float32.
      protonCharge: Math.fround(isis.proton_charge as number),
    };
  }
  return m;
}

function ev44Input(i: Json): Ev44Input {
  const pixels = i.pixel_id as number[];
  return {
    sourceName: i.source_name as string,
    messageId: big(i.message_id),
    referenceTime: BigInt64Array.from((i.reference_time as string[]).map(big)),
    referenceTimeIndex: Int32Array.from(i.reference_time_index as number[]),
    timeOfFlight: Int32Array.from(i.time_of_flight as number[]),
    pixelId: pixels.length === 0 ? undefined : Int32Array.from(pixels),
  };
}

function x5f2Input(i: Json): StatusInput {
  return {
    softwareName: i.software_name as string,
    softwareVersion: i.software_version as string,
    serviceId: i.service_id as string,
    hostName: i.host_name as string,
    processId: i.process_id as number,
    updateInterval: i.update_interval as number,
    statusJson: i.status_json as string,
  };
}

describe("python-sdt-generated cases", () => {
  for (const [name, c] of Object.entries(manifest)) {
    if (name.startsWith("_")) continue;
    const schema = name.slice(0, 4);
    if (!["ev42", "ev44", "hs00", "hs01", "x5f2"].includes(schema)) continue;
    const buf = golden(`python-sdt-generated/${name}.bin`);
    const corrupt = c.note?.startsWith("CORRUPT BY DESIGN") ?? false;
    // Python reuses a vtable whose object size differs for n-d histograms; npm writes a second one.
    const sameBytes = !corrupt && !name.includes("_2d_");

    it(`${name}${corrupt ? " (corrupt by design: must not crash)" : ""}`, () => {
      assert.equal(buf.length, c.bytes);
      if (corrupt) {
        // Raw int bytes tagged ArrayDouble: either it decodes to garbage doubles or fails cleanly.
        try {
          decodeMessage(buf);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
        return;
      }
      let encoded: Uint8Array;
      if (schema === "ev42") {
        const input = ev42Input(c.inputs);
        assert.deepEqual(decodeEv42(buf), { schema, ...input });
        encoded = encodeEv42(input);
      } else if (schema === "ev44") {
        const input = ev44Input(c.inputs);
        assert.deepEqual(decodeEv44(buf), { schema, ...input });
        encoded = encodeEv44(input);
      } else if (schema === "hs00") {
        const input = histogramInput(c.inputs, "hs00") as HistogramFields<Hs00Values>;
        assert.deepEqual(decodeHs00(buf), { schema, ...input });
        encoded = encodeHs00(input);
      } else if (schema === "hs01") {
        const input = histogramInput(c.inputs, "hs01") as HistogramFields<Hs01Values>;
        assert.deepEqual(decodeHs01(buf), { schema, ...input });
        encoded = encodeHs01(input);
      } else {
        const input = x5f2Input(c.inputs);
        assert.deepEqual(decodeX5f2(buf), { schema, ...input });
        encoded = encodeX5f2(input);
      }
      if (sameBytes) assert.deepEqual(encoded, buf, "histd's encoding differs from Python's bytes");
      else assert.deepEqual(decodeMessage(encoded), decodeMessage(buf));
    });
  }
});
