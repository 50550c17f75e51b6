// Hostile input on the gRPC door, over a real in-process server: mutated protobuf requests (histd.v1 Create, Fill,
// FillMany, Snapshot and the seed's /Histogrammer/fill) get a clear status, never INTERNAL, a hang or a crash; and
// the limits (--max-cells, --max-bytes, --max-histograms-per-token) answer RESOURCE_EXHAUSTED without disturbing
// anything else.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { histogramFromUhi, uhiFromJson } from "../../src/engine/index.ts";
import { silentLogger } from "../../src/grpc/log.ts";
import { type RunningServer, services, startServer } from "../../src/grpc/server.ts";
import { fuzz, mutate } from "../support/fuzz.ts";
import { repoRoot } from "../support/python.ts";

const exampleJson = readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8");
const svc = services();
type Def = grpc.MethodDefinition<unknown, unknown>;
const v1 = svc.v1.service as unknown as Record<string, Def>;
const seedFill = (svc.seed.service as unknown as Record<string, Def>).fill;

let server: RunningServer;
let client: grpc.Client;

before(async () => {
  server = await startServer({
    host: "127.0.0.1",
    log: silentLogger as never,
    seedHistogram: histogramFromUhi(uhiFromJson(exampleJson)),
    tokens: new Set(["t1", "t2", "fuzz"]),
    maxCells: 100_000,
    maxBytes: 64 * 2 ** 20,
    maxHistogramsPerToken: 3,
  });
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
after(async () => {
  client.close();
  await server.close();
});

function call(
  def: Def,
  bytes: Uint8Array,
  token = "fuzz",
): Promise<{ code: grpc.status; details: string; response?: unknown }> {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return new Promise((res) => {
    client.makeUnaryRequest(
      def.path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      bytes,
      md,
      { deadline: Date.now() + 5000 },
      (err, value) => {
        if (err) res({ code: err.code, details: err.details });
        else res({ code: grpc.status.OK, details: "", response: def.responseDeserialize(value as Buffer) });
      },
    );
  });
}
const rpc = (name: string, req: object, token?: string) =>
  call(v1[name], v1[name].requestSerialize(req) as Uint8Array, token);

const f64 = (xs: number[]) => ({
  dtype: "DTYPE_FLOAT64",
  shape: [xs.length],
  data: new Uint8Array(Float64Array.from(xs).buffer),
  codec: "CODEC_NONE",
});

test("limits: --max-cells, --max-bytes and --max-histograms-per-token are RESOURCE_EXHAUSTED; nothing else changes", async () => {
  const small = exampleJson; // 12 x 12 x 2 weighted cells: 4608 bytes
  const fill = {
    hist_id: "a1",
    columns: {
      columns: {
        x: { array: f64([0.1, 0.5]) },
        y: { array: f64([0.1, 0.5]) },
        dataset: { string_value: "data" },
      },
    },
  };
  for (const id of ["a1", "a2", "a3"])
    assert.equal((await rpc("Create", { uhi_json: small, id }, "t1")).code, grpc.status.OK);
  assert.equal((await rpc("Fill", fill, "t1")).code, grpc.status.OK);
  const fourth = await rpc("Create", { uhi_json: small, id: "a4" }, "t1");
  assert.equal(fourth.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(fourth.details, /this token holds its limit of 3 histograms \(--max-histograms-per-token\)/);
  // if_not_exists on an existing one is still answered; another token is not affected
  assert.equal(
    (await rpc("Create", { uhi_json: small, id: "a1", if_not_exists: true }, "t1")).code,
    grpc.status.OK,
  );
  assert.equal((await rpc("Create", { uhi_json: small, id: "b1" }, "t2")).code, grpc.status.OK);
  const regular = (bins: number, storage = "double") =>
    JSON.stringify({
      uhi_schema: 1,
      axes: [{ type: "regular", lower: 0, upper: 1, bins, underflow: true, overflow: true, circular: false }],
      storage: { type: storage },
    });
  const tooMany = await rpc("Create", { uhi_json: regular(100_000), id: "big" }, "t2");
  assert.equal(tooMany.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(tooMany.details, /histogram of 100002 cells exceeds the limit of 100000 cells/);
  // 99,998 weighted_mean cells (32 bytes each) twice: the second exceeds 64 MiB? no: 3.2 MB each. Fill bytes up with
  // a limit check instead: maxBytes is 64 MiB, so 3 x 99,998 x 32 fits and the byte limit is exercised below by size.
  assert.equal(
    (await rpc("Create", { uhi_json: regular(99_998, "weighted_mean"), id: "wm" }, "t2")).code,
    grpc.status.OK,
  );
  const stats = (await rpc("Stats", {}, "t2")).response as { total_bytes: number };
  assert.ok(stats.total_bytes < 64 * 2 ** 20);
  // the same server with a smaller byte budget: a histogram beyond what is left is refused before allocation
  const tight = await startServer({ host: "127.0.0.1", log: silentLogger as never, maxBytes: 10_000 });
  const c2 = new grpc.Client(`127.0.0.1:${tight.port}`, grpc.credentials.createInsecure());
  try {
    const create = (id: string) =>
      new Promise<grpc.ServiceError | null>((res) =>
        c2.makeUnaryRequest(
          v1.Create.path,
          (b: object) => v1.Create.requestSerialize(b) as Buffer,
          (b: Buffer) => b,
          { uhi_json: small, id },
          (err) => res(err),
        ),
      );
    assert.equal(await create("x1"), null);
    assert.equal(await create("x2"), null);
    const err = await create("x3");
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(
      err?.details ?? "",
      /histogram of 4608 bytes of weighted storage exceeds the limit of 784 bytes/,
    );
  } finally {
    c2.close();
    await tight.close();
  }
  // the filled histogram kept its counts through all of this
  const snap = (await rpc("Snapshot", { hist_id: "a1" }, "t1")).response as {
    storage: Record<string, { data: Buffer }>;
  };
  const w = snap.storage.values?.data;
  assert.ok(w, `storage fields: ${Object.keys(snap.storage)}`);
  const sum = new Float64Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength)).reduce(
    (a, b) => a + b,
    0,
  );
  assert.equal(sum, 2);
});

test("fuzz: mutated histd.v1 and seed requests get a clear status from a server that keeps serving", {
  timeout: 120_000,
}, async () => {
  const n = 1000;
  const xs = Array.from({ length: n }, (_, i) => (i / n) * 4 - 2);
  const cols = {
    x: { array: f64(xs) },
    y: { array: f64(xs.toReversed()) },
    dataset: { string_value: "data" },
  };
  const dense = (k: string) => ({
    dtype: "DTYPE_FLOAT64",
    shape: [12, 12, 2],
    data: new Uint8Array(
      Float64Array.from({ length: 288 }, (_, i) => (k === "sum_of_weights" ? i % 3 : i % 5)).buffer,
    ),
    codec: "CODEC_NONE",
  });
  const seeds: [Def, Uint8Array][] = [
    [v1.Create, v1.Create.requestSerialize({ uhi_json: exampleJson, id: "fz" }) as Uint8Array],
    [
      v1.Fill,
      v1.Fill.requestSerialize({
        hist_id: "default",
        fill_id: "f1",
        columns: { columns: cols },
      }) as Uint8Array,
    ],
    [
      v1.Fill,
      v1.Fill.requestSerialize({
        hist_id: "fz",
        dense: { storage: { sum_of_weights: dense("sum_of_weights"), sum_of_weights_squared: dense("sq") } },
      }) as Uint8Array,
    ],
    [
      v1.FillMany,
      v1.FillMany.requestSerialize({
        fills: [
          { hist_id: "fz", columns: { columns: { ...cols, weight: { array: f64(xs.map(Math.abs)) } } } },
          {
            hist_id: "default",
            columns: { columns: { ...cols, dataset: { strings: { values: ["drell-yan"] } } } },
          },
        ],
      }) as Uint8Array,
    ],
    [
      v1.Snapshot,
      v1.Snapshot.requestSerialize({
        hist_id: "fz",
        select: [
          { axis: "x", slice: { start: 2, stop: 8, merge: 2 } },
          { axis: "dataset", sum: true },
        ],
        project: ["x"],
      }) as Uint8Array,
    ],
    [
      seedFill,
      seedFill.requestSerialize({
        kwargs: {
          x: {
            array_value: {
              shape: [n],
              dtype: { type: "DT_FLOAT64" },
              data: Buffer.from(Float64Array.from(xs).buffer),
            },
          },
          y: {
            array_value: {
              shape: [n],
              dtype: { type: "DT_FLOAT64" },
              data: Buffer.from(Float64Array.from(xs).buffer),
            },
          },
          dataset: { string_value: "data" },
        },
      }) as Uint8Array,
    ],
  ];
  // the seed's fill runs without a token: its service is the seed's (anonymous) one
  for (const [def, bytes] of seeds) {
    const r = await call(def, bytes, def === seedFill ? "fuzz" : "fuzz");
    assert.ok(
      r.code === grpc.status.OK || def === v1.Fill || def === v1.FillMany || def === seedFill,
      `${def.path}: ${r.details}`,
    );
  }
  const bytesOnly = seeds.map(([, b]) => b);
  const bad = new Set([
    grpc.status.INTERNAL,
    grpc.status.UNKNOWN,
    grpc.status.DEADLINE_EXCEEDED,
    grpc.status.UNAVAILABLE,
  ]);
  const report = await fuzz(
    { name: "grpc-requests", seed: 0x09c0_0001, iterations: 4000 },
    (r) => {
      const k = Math.floor(r() * seeds.length);
      // Mutate this method's own request; splices bring in the others' fields. Byte 0 picks the method.
      return Uint8Array.of(k, ...mutate(r, [seeds[k][1], ...bytesOnly]));
    },
    async (input) => {
      const def = seeds[input[0] % seeds.length][0];
      const r = await call(def, input.subarray(1));
      // grpc-js answers bytes that are not the request message with INTERNAL "Error deserializing request".
      if (r.code === grpc.status.INTERNAL && r.details === "Error deserializing request")
        return "undecodable";
      if (bad.has(r.code)) throw new Error(`${def.path}: ${grpc.status[r.code]}: ${r.details}`);
      if (r.code !== grpc.status.OK && r.details.length < 5)
        throw new Error(`${def.path}: unclear error '${r.details}'`);
      return `${def.path.split("/").pop()} ${grpc.status[r.code]}`;
    },
  );
  assert.ok(report.iterations > 0);
  // still serving, and the seed histogram is still whole
  const d = await rpc("Describe", { hist_id: "default" }, "");
  assert.ok(d.code === grpc.status.UNAUTHENTICATED || d.code === grpc.status.OK);
  assert.equal((await rpc("Stats", {})).code, grpc.status.OK);
});

test("an error echoing a client string with control characters is still a clean status (was an HTTP/2 protocol error)", async () => {
  const r = await rpc("Snapshot", { hist_id: "a\nb\u0001" });
  assert.equal(r.code, grpc.status.NOT_FOUND);
  assert.equal(r.details, "no histogram with id 'a\\x0ab\\x01'");
});
