// Cross-checks against the official Python package (ess-streaming-data-types in .venv):
//  - messages histd encodes are deserialised by Python to the same values;
//  - messages Python serialises (from inputs generated here) decode in histd to the same values,
//    and histd's encoding of the same inputs gives the same bytes where the build order allows.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { HistogramFields } from "../../src/formats/flatbuffers/histogram.ts";
import {
  type DecodedMessage,
  decodeMessage,
  type Ev42Input,
  type Ev44Input,
  encodeEv42,
  encodeEv44,
  encodeHs00,
  encodeHs01,
  encodeX5f2,
  type Hs00Input,
  type Hs01Input,
  type StatusInput,
} from "../../src/formats/flatbuffers/index.ts";
import type { NumericArray } from "../../src/formats/flatbuffers/writer.ts";
import { runPythonJson } from "../support/python.ts";
import { randomInts, rng } from "./flatbuffers-support.ts";

type Case =
  | { schema: "ev42"; input: Ev42Input }
  | { schema: "ev44"; input: Ev44Input }
  | { schema: "hs00"; input: Hs00Input }
  | { schema: "hs01"; input: Hs01Input }
  | { schema: "x5f2"; input: StatusInput };

function makeCases(): { name: string; c: Case; sameBytes: boolean }[] {
  const next = rng(20240917);
  const ints = (n: number, lo: number, hi: number) => randomInts(next, n, lo, hi);
  const n = 5000;
  const edges = (k: number) => Float64Array.from({ length: k + 1 }, (_, i) => i * 2.5);
  const hs = <V extends NumericArray>(data: V, errors?: V): HistogramFields<V> => {
    const h: HistogramFields<V> = {
      source: "histd-test",
      timestamp: 1_700_000_000_000_000_123n,
      currentShape: [data.length],
      dimMetadata: [
        { length: data.length, unit: "ns", label: "tof", binBoundaries: edges(data.length) as V },
      ],
      data,
      info: JSON.stringify({ id: "hist-1", state: "COUNTING", start: 1_700_000_000_000 }),
      lastMetadataTimestamp: 1_699_999_999_000_000_000n,
    };
    if (errors) h.errors = errors;
    return h;
  };
  const h2d = <V extends NumericArray>(data: V): HistogramFields<V> => ({
    timestamp: 987_654_321n,
    currentShape: [3, 4],
    dimMetadata: [
      { length: 3, unit: "", label: "", binBoundaries: edges(3) as V },
      { length: 4, unit: "mm", label: "y", binBoundaries: edges(4) as V },
    ],
    data,
  });
  const tof = ints(n, 0, 71_000_000);
  const pix = ints(n, 1, 2 ** 31 - 1);
  return [
    {
      name: "ev42 with ISISData and a uint64 pulse time above 2^63",
      sameBytes: true,
      c: {
        schema: "ev42",
        input: {
          sourceName: "detector",
          messageId: 18_000_000_000_000_000_001n,
          pulseTime: 9_300_000_000_000_000_007n,
          timeOfFlight: Uint32Array.from(tof),
          detectorId: Uint32Array.from(pix),
          facilityData: { type: "ISISData", periodNumber: 7, runState: 1, protonCharge: Math.fround(0.0011) },
        },
      },
    },
    {
      name: "ev44 with three pulses",
      sameBytes: true,
      c: {
        schema: "ev44",
        input: {
          sourceName: "loki_detector_ünï",
          messageId: -42n,
          referenceTime: BigInt64Array.from([1_700_000_000_000_000_000n, 1_700_000_000_071_428_571n, -1n]),
          referenceTimeIndex: Int32Array.from([0, 1000, 3000]),
          timeOfFlight: Int32Array.from(ints(n, -(2 ** 31), 2 ** 31 - 1)),
          pixelId: Int32Array.from(pix),
        },
      },
    },
    {
      name: "ev44 monitor without pixel ids",
      sameBytes: true,
      c: {
        schema: "ev44",
        input: {
          sourceName: "monitor_1",
          messageId: 0n,
          referenceTime: BigInt64Array.from([1_700_000_000_000_000_000n]),
          referenceTimeIndex: Int32Array.from([0]),
          timeOfFlight: Int32Array.from(tof.slice(0, 100)),
          pixelId: undefined,
        },
      },
    },
    {
      name: "hs00 uint32",
      sameBytes: true,
      c: { schema: "hs00", input: hs(Uint32Array.from(ints(50, 0, 2 ** 32))) },
    },
    {
      name: "hs00 uint64 with errors",
      sameBytes: true,
      c: {
        schema: "hs00",
        input: hs(
          BigUint64Array.from([18_446_744_073_709_551_615n, 0n, 5n]),
          BigUint64Array.from([1n, 2n, 3n]),
        ),
      },
    },
    {
      name: "hs00 float32 with errors",
      sameBytes: true,
      c: { schema: "hs00", input: hs(Float32Array.from([0.5, 1.25, 3e38]), Float32Array.from([1, 2, 3])) },
    },
    {
      name: "hs00 2-d float64",
      sameBytes: false,
      c: { schema: "hs00", input: h2d(new Float64Array(12).fill(0.1)) },
    },
    {
      name: "hs01 int32 with errors",
      sameBytes: true,
      c: {
        schema: "hs01",
        input: hs(Int32Array.from(ints(40, -1000, 1000)), Int32Array.from(ints(40, 0, 9))),
      },
    },
    {
      name: "hs01 int64",
      sameBytes: true,
      c: { schema: "hs01", input: hs(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n])) },
    },
    {
      name: "hs01 float64",
      sameBytes: true,
      c: { schema: "hs01", input: hs(Float64Array.from(ints(100, 0, 1e6).map((v) => v / 7))) },
    },
    {
      name: "hs01 2-d int64 (just-bin-it style)",
      sameBytes: false,
      c: { schema: "hs01", input: h2d(BigInt64Array.from(ints(12, 0, 100).map(BigInt))) },
    },
    {
      name: "x5f2 status",
      sameBytes: true,
      c: {
        schema: "x5f2",
        input: {
          softwareName: "histd",
          softwareVersion: "0.1.0",
          serviceId: "histd-abc",
          hostName: "node-1",
          processId: 123_456,
          updateInterval: 2000,
          statusJson: JSON.stringify({ state: "ok", histograms: ["a", "b"] }),
        },
      },
    },
  ];
}

function encode(c: Case): Uint8Array {
  switch (c.schema) {
    case "ev42":
      return encodeEv42(c.input);
    case "ev44":
      return encodeEv44(c.input);
    case "hs00":
      return encodeHs00(c.input);
    case "hs01":
      return encodeHs01(c.input);
    case "x5f2":
      return encodeX5f2(c.input);
  }
}

// --- JSON bridge: numpy arrays as {dtype, shape, values}; every integer as a decimal string (exact) ---

interface NpJson {
  dtype: string;
  shape: number[];
  values: (string | number)[];
}
type PyJson = Record<string, unknown>;

function dtypeOf(a: NumericArray): string {
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof BigUint64Array) return "uint64";
  if (a instanceof Float32Array) return "float32";
  return "float64";
}

function np(a: NumericArray, shape: number[] = [a.length]): NpJson {
  const values = Array.from(a as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? String(v) : v));
  return { dtype: dtypeOf(a), shape, values };
}

/** Python's serialiser arguments for a case (keyword names as in the Python API). */
function pythonArgs(c: Case): PyJson {
  switch (c.schema) {
    case "ev42": {
      const m = c.input;
      const f = m.facilityData;
      const isis =
        f?.type === "ISISData"
          ? { period_number: f.periodNumber, run_state: f.runState, proton_charge: f.protonCharge }
          : null;
      return {
        source_name: m.sourceName,
        message_id: String(m.messageId),
        pulse_time: String(m.pulseTime),
        time_of_flight: np(m.timeOfFlight),
        detector_id: np(m.detectorId),
        isis_specific: isis,
      };
    }
    case "ev44": {
      const m = c.input;
      return {
        source_name: m.sourceName,
        message_id: String(m.messageId),
        reference_time: np(m.referenceTime),
        reference_time_index: np(m.referenceTimeIndex),
        time_of_flight: np(m.timeOfFlight),
        pixel_id: np(m.pixelId ?? new Int32Array(0)),
      };
    }
    case "hs00":
    case "hs01": {
      const h: HistogramFields<NumericArray> = c.input;
      const out: PyJson = {
        timestamp: String(h.timestamp),
        current_shape: h.currentShape,
        dim_metadata: h.dimMetadata.map((d) => ({
          length: d.length,
          unit: d.unit,
          label: d.label,
          bin_boundaries: d.binBoundaries && np(d.binBoundaries),
        })),
        data: np(h.data, h.currentShape),
      };
      if (h.source !== undefined) out.source = h.source;
      if (h.info !== undefined) out.info = h.info;
      if (h.errors !== undefined) out.errors = np(h.errors, h.currentShape);
      if (h.lastMetadataTimestamp !== undefined)
        out.last_metadata_timestamp = String(h.lastMetadataTimestamp);
      return out;
    }
    case "x5f2": {
      const s = c.input;
      return {
        software_name: s.softwareName,
        software_version: s.softwareVersion,
        service_id: s.serviceId,
        host_name: s.hostName,
        process_id: s.processId,
        update_interval: s.updateInterval,
        status_json: s.statusJson,
      };
    }
  }
}

const pyPrelude = `
import base64, json, sys
import numpy as np
from streaming_data_types import DESERIALISERS, SERIALISERS

def to_json(x):
    if isinstance(x, np.ndarray):
        return {"dtype": x.dtype.name, "shape": list(x.shape),
                "values": [str(v) if isinstance(v, int) else v for v in x.flatten().tolist()]}
    if hasattr(x, "_asdict"):
        return {k: to_json(v) for k, v in x._asdict().items()}
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    if isinstance(x, np.generic):
        return to_json(x.item())
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, int):
        return str(x)
    return x

def from_json(a):
    if isinstance(a, dict) and "dtype" in a:
        vals = [int(v) if isinstance(v, str) else v for v in a["values"]]
        return np.array(vals, dtype=a["dtype"]).reshape(a["shape"])
    return a
`;

const pyDeserialise = `${pyPrelude}
out = []
for item in json.load(sys.stdin):
    buf = base64.b64decode(item["b64"])
    out.append(to_json(DESERIALISERS[item["schema"]](buf)))
print(json.dumps(out))
`;

const pySerialise = `${pyPrelude}
out = []
for item in json.load(sys.stdin):
    s, a = item["schema"], item["args"]
    if s == "ev42":
        buf = SERIALISERS[s](a["source_name"], int(a["message_id"]), int(a["pulse_time"]),
                             from_json(a["time_of_flight"]), from_json(a["detector_id"]), a["isis_specific"])
    elif s == "ev44":
        buf = SERIALISERS[s](a["source_name"], int(a["message_id"]), from_json(a["reference_time"]),
                             from_json(a["reference_time_index"]), from_json(a["time_of_flight"]),
                             from_json(a["pixel_id"]))
    elif s in ("hs00", "hs01"):
        h = dict(a)
        for k in ("timestamp", "last_metadata_timestamp"):
            if k in h:
                h[k] = int(h[k])
        h["data"] = from_json(h["data"])
        if "errors" in h:
            h["errors"] = from_json(h["errors"])
        h["dim_metadata"] = [dict(d, bin_boundaries=from_json(d["bin_boundaries"])) for d in h["dim_metadata"]]
        buf = SERIALISERS[s](h)
    else:
        buf = SERIALISERS[s](a["software_name"], a["software_version"], a["service_id"], a["host_name"],
                             a["process_id"], a["update_interval"], a["status_json"])
    out.append(base64.b64encode(bytes(buf)).decode())
print(json.dumps(out))
`;

/** Asserts Python's deserialised view equals the case's input. */
function assertPythonView(c: Case, py: PyJson): void {
  const arr = (got: unknown, want: NumericArray | undefined, what: string) => {
    const g = got as NpJson;
    const w = np(want ?? new Int32Array(0));
    assert.equal(g.dtype, w.dtype, `${what}: dtype`);
    assert.deepEqual(g.values.map(String), w.values.map(String), `${what}: values`);
  };
  switch (c.schema) {
    case "ev42": {
      const m = c.input;
      assert.equal(py.source_name, m.sourceName);
      assert.equal(BigInt(py.message_id as string), m.messageId);
      assert.equal(BigInt(py.pulse_time as string), m.pulseTime);
      arr(py.time_of_flight, m.timeOfFlight, "time_of_flight");
      arr(py.detector_id, m.detectorId, "detector_id");
      const f = m.facilityData;
      assert.ok(f?.type === "ISISData");
      assert.deepEqual(py.specific_data, {
        period_number: String(f.periodNumber),
        run_state: String(f.runState),
        proton_charge: f.protonCharge,
      });
      return;
    }
    case "ev44": {
      const m = c.input;
      assert.equal(py.source_name, m.sourceName);
      assert.equal(BigInt(py.message_id as string), m.messageId);
      arr(py.reference_time, m.referenceTime, "reference_time");
      arr(py.reference_time_index, m.referenceTimeIndex, "reference_time_index");
      arr(py.time_of_flight, m.timeOfFlight, "time_of_flight");
      arr(py.pixel_id, m.pixelId, "pixel_id");
      return;
    }
    case "hs00":
    case "hs01": {
      const h: HistogramFields<NumericArray> = c.input;
      assert.equal(py.source, h.source ?? "");
      assert.equal(py.info, h.info ?? "");
      assert.equal(BigInt(py.timestamp as string), h.timestamp);
      assert.equal(BigInt(py.last_metadata_timestamp as string), h.lastMetadataTimestamp ?? 0n);
      assert.deepEqual((py.current_shape as string[]).map(Number), h.currentShape);
      arr(py.data, h.data, "data");
      assert.deepEqual((py.data as NpJson).shape, h.currentShape);
      if (h.errors) arr(py.errors, h.errors, "errors");
      else assert.deepEqual(py.errors, []);
      const dims = py.dim_metadata as PyJson[];
      assert.equal(dims.length, h.dimMetadata.length);
      h.dimMetadata.forEach((d, i) => {
        assert.equal(Number(dims[i].length), d.length);
        assert.equal(dims[i].unit, d.unit ?? "");
        assert.equal(dims[i].label, d.label ?? "");
        arr(dims[i].bin_boundaries, d.binBoundaries, `dim ${i} bin_boundaries`);
      });
      return;
    }
    case "x5f2": {
      const s = c.input;
      assert.deepEqual(py, {
        software_name: s.softwareName,
        software_version: s.softwareVersion,
        service_id: s.serviceId,
        host_name: s.hostName,
        process_id: String(s.processId),
        update_interval: String(s.updateInterval),
        status_json: s.statusJson,
      });
    }
  }
}

function expectedDecoded(c: Case): DecodedMessage {
  if (c.schema === "hs00" || c.schema === "hs01") {
    // Python always writes unit and label.
    const dims = c.input.dimMetadata.map((d) => ({ ...d, unit: d.unit ?? "", label: d.label ?? "" }));
    return { schema: c.schema, ...c.input, dimMetadata: dims } as DecodedMessage;
  }
  return { schema: c.schema, ...c.input } as DecodedMessage;
}

describe("interop with Python ess-streaming-data-types", () => {
  const cases = makeCases();
  let pythonView: PyJson[] = [];
  let pythonBytes: Uint8Array[] = [];

  before(() => {
    const encoded = cases.map(({ c }) => ({
      schema: c.schema,
      b64: Buffer.from(encode(c)).toString("base64"),
    }));
    pythonView = runPythonJson<PyJson[]>(pyDeserialise, JSON.stringify(encoded));
    const args = cases.map(({ c }) => ({ schema: c.schema, args: pythonArgs(c) }));
    const b64 = runPythonJson<string[]>(pySerialise, JSON.stringify(args));
    pythonBytes = b64.map((s) => new Uint8Array(Buffer.from(s, "base64")));
  });

  cases.forEach(({ name, c, sameBytes }, i) => {
    it(`histd -> Python: ${name}`, () => {
      assertPythonView(c, pythonView[i]);
    });
    it(`Python -> histd: ${name}`, () => {
      assert.deepEqual(decodeMessage(pythonBytes[i]), expectedDecoded(c));
      if (sameBytes) assert.deepEqual(encode(c), pythonBytes[i], "same inputs, same bytes");
    });
  });
});
