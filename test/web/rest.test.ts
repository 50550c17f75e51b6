// The HTTP door's REST API, /metrics, /healthz, /readyz and limits, against an in-process gRPC door publishing
// into the catalog. Values come back as UHI JSON and are compared with hist (Python) filled on the same arrays
// and cut the same way.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { Catalog } from "../../src/catalog/index.ts";
import { HistdClient } from "../../src/client/index.ts";
import { histogramFromUhi, sum, uhiFromJson, values, variances } from "../../src/engine/index.ts";
import { silentLogger } from "../../src/grpc/log.ts";
import { type RunningServer, startServer } from "../../src/grpc/server.ts";
import { type HttpServer, startHttp } from "../../src/http/server.ts";
import { repoRoot, runPython } from "../support/python.ts";

const dir = mkdtempSync(join(tmpdir(), "histd-rest-"));
const catalog = new Catalog();
let grpc: RunningServer;
let http: HttpServer;
let client: HistdClient;
let base: string;

before(async () => {
  grpc = await startServer({ host: "127.0.0.1", port: 0, log: silentLogger, outputDir: dir, catalog });
  http = await startHttp({ catalog, host: "127.0.0.1", port: 0, maxBodyBytes: 64 * 1024 });
  base = `http://127.0.0.1:${http.port}`;
  client = new HistdClient(`127.0.0.1:${grpc.port}`);
});
after(async () => {
  client.close();
  await http.close();
  await grpc.close();
});

async function get(path: string, init: RequestInit = {}) {
  const r = await fetch(`${base}${path}`, init);
  const text = await r.text();
  return { status: r.status, type: r.headers.get("content-type") ?? "", text };
}

function close(actual: ArrayLike<number>, expected: number[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

test("REST: list, describe, UHI, projections and slices equal hist's; reset and delete", async () => {
  await client.create(readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8"), { id: "ex" });
  const n = 50_000;
  const x = new Float64Array(n).map((_, i) => Math.sin(i) * 2.5);
  const y = new Float64Array(n).map((_, i) => Math.cos(i * 1.7) * 2.2);
  const w = new Float64Array(n).map((_, i) => (i % 7) / 3);
  writeFileSync(join(dir, "x.bin"), x);
  writeFileSync(join(dir, "y.bin"), y);
  writeFileSync(join(dir, "w.bin"), w);
  await client.fill("ex", { x, y, weight: w, dataset: "data" });
  await client.fill("ex", { x: y, y: x, weight: w.map((v) => 2 * v), dataset: "drell-yan" });
  const oracle = JSON.parse(
    runPython(readFileSync(resolve(import.meta.dirname, "rest_oracle.py"), "utf8"), "", [dir]),
  ) as Record<string, { values: number[]; variances: number[]; edges: number[][]; sum: number }>;

  const list = await get("/api/histograms");
  assert.equal(list.status, 200);
  assert.match(list.type, /application\/json/);
  const entries = JSON.parse(list.text).histograms as { key: string; door: string; rank: number }[];
  assert.deepEqual(
    entries.map((e) => [e.key, e.door, e.rank]),
    [["grpc:ex", "grpc", 3]],
  );
  const desc = JSON.parse((await get("/api/histograms/grpc%3Aex")).text);
  assert.equal(desc.storage, "weighted");
  assert.deepEqual(
    desc.axes.map((a: { name: string }) => a.name),
    ["x", "y", "dataset"],
  );
  assert.ok(Math.abs(desc.info.sum - oracle.uhi.sum) < 1e-6);

  for (const [k, exp] of Object.entries(oracle)) {
    const [kind, arg] = k.split(/:(.*)/s);
    const path =
      kind === "uhi"
        ? "/api/histograms/grpc:ex/uhi"
        : kind === "projection"
          ? `/api/histograms/grpc:ex/projection?axes=${encodeURIComponent(arg)}`
          : `/api/histograms/grpc:ex/slice?sel=${encodeURIComponent(arg)}`;
    const r = await get(path);
    assert.equal(r.status, 200, `${k}: ${r.text}`);
    const h = histogramFromUhi(uhiFromJson(r.text));
    close(values(h, true).data, exp.values, `${k} values`);
    close((variances(h, true) as { data: Float64Array }).data, exp.variances, `${k} variances`);
    h.axes.forEach((a, i) => {
      close(a.edges(), exp.edges[i], `${k} edges of axis ${i}`);
    });
    assert.ok(Math.abs(sum(h, true) - exp.sum) < 1e-6 * Math.abs(exp.sum), k);
  }

  // reset through HTTP is seen by the gRPC door
  const reset = await get("/api/histograms/grpc:ex/reset", { method: "POST" });
  assert.equal(reset.status, 200, reset.text);
  const snap = await client.snapshot("ex");
  assert.equal(sum(snap, true), 0);
  // delete through HTTP removes it from the gRPC door
  const del = await get("/api/histograms/grpc:ex", { method: "DELETE" });
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(await client.list(), []);
  assert.equal((await get("/api/histograms/grpc:ex")).status, 404);
});

test("REST: unknown ids and routes are 404 with a JSON error; bad selections 400; methods 405", async () => {
  for (const p of ["/api/histograms/grpc:nope", "/api/histograms/nope/uhi", "/api/nothing", "/nothing.js"]) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.match(r.type, /application\/json/);
    assert.equal(typeof JSON.parse(r.text).error, "string");
  }
  await client.create(readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8"), { id: "two" });
  const bad = await get("/api/histograms/grpc:two/slice?sel=1,2,3,4");
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.text).error, /4 items for 3 axes/);
  assert.equal((await get("/api/histograms/grpc:two/projection?axes=nope")).status, 400);
  assert.equal((await get("/api/histograms/grpc:two/reset")).status, 405);
  assert.equal((await get("/api/histograms", { method: "POST", body: "{}" })).status, 405);
});

test("REST: oversize bodies (413), URLs (414) and headers (431) are refused", async () => {
  const big = await get("/api/histograms/grpc:two/reset", { method: "POST", body: "x".repeat(100_000) });
  assert.equal(big.status, 413);
  assert.match(JSON.parse(big.text).error, /over the limit of 65536 bytes/);
  const longUrl = await get(`/api/histograms/${"a".repeat(9000)}`);
  assert.equal(longUrl.status, 414);
  // a chunked body without Content-Length is counted as it arrives
  const status = await new Promise<number>((res, rej) => {
    const req = request(`${base}/api/histograms/grpc:two/reset`, { method: "POST" }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on("error", rej);
    for (let i = 0; i < 100; i++) req.write("y".repeat(1024));
    req.end();
  }).catch(() => 413);
  assert.equal(status, 413);
  const headers = await new Promise<number>((res, rej) => {
    const req = request(`${base}/healthz`, { headers: { "x-big": "z".repeat(20_000) } }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on("error", rej);
    req.end();
  });
  assert.equal(headers, 431);
});

test("/metrics (Prometheus text), /healthz, /readyz", async () => {
  const m = await get("/metrics");
  assert.equal(m.status, 200);
  assert.match(m.type, /text\/plain; version=0\.0\.4/);
  assert.match(m.text, /^# TYPE histd_rpcs_total counter$/m);
  assert.match(m.text, /^histd_rpcs_total\{method="histd.v1.Histd\/Fill",status="OK"\} 2$/m);
  assert.match(m.text, /^histd_events_total\{door="grpc"\} 100000$/m);
  assert.match(m.text, /^histd_process_resident_memory_bytes \d+$/m);
  assert.match(m.text, /^histd_http_requests_total\{route="\/api\/histograms",code="200"\} \d+$/m);
  for (const line of m.text.split("\n"))
    if (line !== "" && !line.startsWith("#"))
      assert.match(line, /^[a-z_]+(\{.*\})? ([-+\d.eE]+|NaN|[+-]Inf)$/, line);
  const hz = await get("/healthz");
  assert.equal(hz.status, 200);
  assert.equal(JSON.parse(hz.text).ok, true);
  const rz = await get("/readyz");
  assert.equal(rz.status, 200);
  catalog.readiness.set("test", () => false);
  assert.equal((await get("/readyz")).status, 503);
  catalog.readiness.delete("test");
});

test("bearer tokens: as the gRPC side (401 without or with an unknown token; owners see their own)", async () => {
  const c2 = new Catalog();
  const tokens = new Set(["alice", "bob"]);
  const g2 = await startServer({
    host: "127.0.0.1",
    port: 0,
    log: silentLogger,
    outputDir: dir,
    catalog: c2,
    tokens,
  });
  const h2 = await startHttp({ catalog: c2, host: "127.0.0.1", port: 0, tokens });
  const alice = new HistdClient(`127.0.0.1:${g2.port}`, { token: "alice" });
  try {
    await alice.create(readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8"), { id: "mine" });
    const u = `http://127.0.0.1:${h2.port}`;
    assert.equal((await fetch(`${u}/api/histograms`)).status, 401);
    assert.equal((await fetch(`${u}/metrics`)).status, 401);
    assert.equal(
      (await fetch(`${u}/api/histograms`, { headers: { authorization: "Bearer eve" } })).status,
      401,
    );
    const a = await fetch(`${u}/api/histograms`, { headers: { authorization: "Bearer alice" } });
    assert.deepEqual(
      (await a.json()).histograms.map((e: { key: string }) => e.key),
      ["grpc:mine"],
    );
    const b = await fetch(`${u}/api/histograms?token=bob`);
    assert.deepEqual((await b.json()).histograms, []);
    assert.equal((await fetch(`${u}/api/histograms/grpc:mine/uhi?token=bob`)).status, 404);
    assert.equal((await fetch(`${u}/healthz`)).status, 200);
    assert.equal((await fetch(`${u}/`)).status, 200);
  } finally {
    alice.close();
    await h2.close();
    await g2.close();
  }
});
