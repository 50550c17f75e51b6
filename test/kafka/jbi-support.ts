// Helpers for the just-bin-it door tests: topics, event producers, reading topics back, and the Python
// oracles (ess-streaming-data-types decodes histd's output; numpy computes the expected counts).
import { setTimeout as delay } from "node:timers/promises";
import { Admin, type ConnectionOptions, Consumer, Producer } from "@platformatic/kafka";
import { encodeEv42, encodeEv44 } from "../../src/formats/flatbuffers/index.ts";
import type { HistogramSpec } from "../../src/kafka/config-commands.ts";
import { runPythonJson } from "../support/python.ts";

export type Conn = ConnectionOptions & { bootstrapBrokers: string[] };

export async function createTopics(conn: Conn, topics: string[], partitions = 1): Promise<void> {
  const admin = new Admin({ clientId: "test-admin", ...conn });
  try {
    await admin.createTopics({ topics, partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

export interface Events {
  source: string;
  pulse: bigint;
  tof: Int32Array;
  det: Int32Array;
  /** Kafka timestamp (ms). */
  timestamp?: number;
  partition?: number;
}

let seed = 12345;
export function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
function gauss(): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** just-bin-it's integration-test events: Gaussian ToF (5e7, 1e7) and detector ids (255, 51). */
export function makeEvents(n: number, source = "integration test"): Events {
  const tof = new Int32Array(n);
  const det = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    tof[i] = Math.trunc(5e7 + 1e7 * gauss());
    det[i] = Math.trunc(255 + 51 * gauss());
  }
  return { source, pulse: BigInt(Date.now()) * 1_000_000n, tof, det };
}

export function encode(schema: "ev42" | "ev44", e: Events, id = 1): Uint8Array {
  if (schema === "ev44")
    return encodeEv44({
      sourceName: e.source,
      messageId: BigInt(id),
      referenceTime: BigInt64Array.of(e.pulse),
      referenceTimeIndex: Int32Array.of(0),
      timeOfFlight: e.tof,
      pixelId: e.det,
    });
  return encodeEv42({
    sourceName: e.source,
    messageId: BigInt(id),
    pulseTime: e.pulse,
    timeOfFlight: new Uint32Array(e.tof.buffer),
    detectorId: new Uint32Array(e.det.buffer),
  });
}

export async function produce(
  conn: Conn,
  topic: string,
  values: { value: Uint8Array | string; timestamp?: number; partition?: number }[],
): Promise<void> {
  // Idempotent: a retry around a broker restart must not write a message twice (the tests count every event).
  const p = new Producer({ clientId: "test-producer", idempotent: true, acks: -1, ...conn });
  try {
    await p.send({
      messages: values.map((v) => ({
        topic,
        value:
          typeof v.value === "string"
            ? Buffer.from(v.value)
            : Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength),
        ...(v.timestamp !== undefined ? { timestamp: BigInt(v.timestamp) } : {}),
        ...(v.partition !== undefined ? { partition: v.partition } : {}),
      })),
    });
  } finally {
    await p.close();
  }
}

/** Every message currently on partition 0 of `topic`, from the beginning. */
export async function readAll(conn: Conn, topic: string): Promise<Buffer[]> {
  const c = new Consumer({ clientId: "test-reader", groupId: `r-${Math.random()}`, ...conn });
  try {
    const md = await c.metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    if (!t) return [];
    const out: Buffer[] = [];
    const high = (await c.listOffsets({ topics: [topic], timestamp: -1n })).get(topic) ?? [];
    for (let p = 0; p < t.partitionsCount; p++) {
      let off = 0n;
      while (off < (high[p] ?? 0n)) {
        const r = await c.fetch({
          node: t.partitions[p].leader,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 256 << 20,
          topics: [
            {
              topicId: t.id,
              partitions: [
                {
                  partition: p,
                  fetchOffset: off,
                  partitionMaxBytes: 256 << 20,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        let got = false;
        for (const tr of r.responses)
          for (const pr of tr.partitions)
            for (const b of pr.records ?? [])
              for (const rec of b.records) {
                const o = b.firstOffset + BigInt(rec.offsetDelta);
                if (o < off || !rec.value) continue;
                out.push(rec.value);
                off = o + 1n;
                got = true;
              }
        if (!got) break;
      }
    }
    return out;
  } finally {
    await c.close(true);
  }
}

export interface PyHist {
  source: string;
  timestamp: number;
  current_shape: number[];
  dims: { length: number; edges: number[]; edges_dtype: string }[];
  data: number[];
  data_dtype: string;
  info: Record<string, unknown>;
  info_raw: string;
}

/** Decodes hs00/hs01 messages with ess-streaming-data-types. */
export function pyDecodeHistograms(msgs: Buffer[]): PyHist[] {
  const input = JSON.stringify(msgs.map((m) => m.toString("base64")));
  return runPythonJson<PyHist[]>(
    `
import sys, json, base64, numpy as np
from streaming_data_types import deserialise_hs00, deserialise_hs01
out = []
for b in json.load(sys.stdin):
    raw = base64.b64decode(b)
    d = {b"hs00": deserialise_hs00, b"hs01": deserialise_hs01}[raw[4:8]](raw)
    data = np.asarray(d["data"])
    out.append({"source": d["source"], "timestamp": int(d["timestamp"]), "current_shape": [int(x) for x in d["current_shape"]],
        "dims": [{"length": int(m["length"]), "edges": np.asarray(m["bin_boundaries"]).tolist(), "edges_dtype": str(np.asarray(m["bin_boundaries"]).dtype)} for m in d["dim_metadata"]],
        "data": data.flatten().tolist(), "data_dtype": str(data.dtype), "info": json.loads(d["info"]), "info_raw": d["info"]})
print(json.dumps(out))
`,
    input,
  );
}

/** numpy's expected counts (flattened C order) for a histogram spec over the events. */
export function numpyExpected(spec: Record<string, unknown>, tof: number[], det: number[]): number[] {
  return runPythonJson<number[]>(
    `
import sys, json, numpy as np
a = json.load(sys.stdin); h = a["spec"]; tof = np.array(a["tof"], dtype=np.int64); det = np.array(a["det"], dtype=np.int64)
t = h["type"]
if t == "hist1d" and "det_range" not in h:
    r = np.histogram(tof, range=h["tof_range"], bins=h["num_bins"])[0]
elif t == "hist1d":
    r = np.histogram2d(tof, det, range=[h["tof_range"], h["det_range"]], bins=h["num_bins"])[0].sum(axis=1)
elif t == "hist2d":
    r = np.histogram2d(tof, det, range=[h["tof_range"], h["det_range"]], bins=h["num_bins"])[0]
elif t == "dethist":
    lo = h["det_range"][0]; w = h["width"]; hh = h["height"]
    ids = det[(det >= lo) & (det < lo + w * hh)] - lo
    r = np.bincount(ids, minlength=w * hh).reshape(hh, w).T
else:
    w = h["width"]; le = h["left_edges"]
    r = np.array([[np.sum(det == le[row] + x) for row in range(len(le))] for x in range(w)])
print(json.dumps(np.asarray(r, dtype=np.float64).flatten().tolist()))
`,
    JSON.stringify({ spec, tof, det }),
  );
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(250);
  }
}

/** A histogram spec with defaults for every field the test does not set. */
export function spec(s: Partial<HistogramSpec> & Pick<HistogramSpec, "type">): HistogramSpec {
  return {
    tofRange: [0, 0],
    numBins: 1,
    width: 0,
    height: 0,
    leftEdges: [],
    topic: "t",
    dataTopics: ["d"],
    dataBrokers: ["b"],
    source: "",
    id: "",
    ...s,
  };
}
