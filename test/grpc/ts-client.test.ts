// The TypeScript client against an in-process server; Python loads the exported file and compares it with
// hist filled locally on the same arrays, and checks the projected snapshot.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { HistdClient } from "../../src/client/index.ts";
import { histogramToUhi, uhiToJson } from "../../src/engine/index.ts";
import { silentLogger } from "../../src/grpc/log.ts";
import { type RunningServer, startServer } from "../../src/grpc/server.ts";
import { repoRoot, runPythonJson } from "../support/python.ts";

let server: RunningServer;
let client: HistdClient;
const out = mkdtempSync(join(tmpdir(), "histd-tsclient-"));

before(async () => {
  server = await startServer({ host: "127.0.0.1", port: 0, log: silentLogger, outputDir: out });
  client = new HistdClient(`127.0.0.1:${server.port}`);
});
after(async () => {
  client.close();
  await server.close();
});

test("TS client: create, fill (fill ids), fillMany, snapshot/project, watch, export", async () => {
  const info = await client.create(readFileSync(resolve(repoRoot, "example/hist_ir.json"), "utf8"), {
    id: "ex",
  });
  assert.equal(info.hist_id, "ex");
  const n = 100_000;
  const x = new Float64Array(n).map((_, i) => Math.sin(i) * 2.5);
  const y = new Float64Array(n).map((_, i) => Math.cos(i * 1.7) * 2.2);
  const w = new Float64Array(n).map((_, i) => (i % 7) / 3);
  writeFileSync(join(out, "x.bin"), x);
  writeFileSync(join(out, "y.bin"), y);
  writeFileSync(join(out, "w.bin"), w);
  const r1 = await client.fill("ex", { x, y, weight: w, dataset: "data" }, { fillId: "a" });
  const r2 = await client.fill("ex", { x, y, weight: w, dataset: "data" }, { fillId: "a" });
  assert.equal(r1.entries, n);
  assert.equal(r2.duplicate, true);
  await client.fillMany([
    { histId: "ex", columns: { x: y, y: x, dataset: "drell-yan", weight: w } },
    { histId: "ex", columns: { x: y, y: x, dataset: "drell-yan", weight: w } },
  ]);
  const watch = client.watch("ex", { intervalMs: 50 });
  const first = await watch.next();
  assert.ok(!first.done);
  await client.fill("ex", { x: [0.5], y: 0.5, dataset: "data", weight: 2.5 });
  const second = await watch.next();
  await watch.return(undefined);
  assert.ok(!second.done);
  const proj = await client.snapshot("ex", { project: ["x"] });
  writeFileSync(join(out, "proj.json"), uhiToJson(histogramToUhi(proj)));
  await client.export("ex", "ex.json");
  const py = runPythonJson<{ ok: boolean; sum: number }>(
    `
import json, sys, numpy as np, hist, uhi.io.json as uj
d = sys.argv[1]
rd = lambda f: np.fromfile(f"{d}/{f}", dtype="<f8")
x, y, w = rd("x.bin"), rd("y.bin"), rd("w.bin")
local = hist.Hist(json.load(open("example/hist_ir.json"), object_hook=uj.object_hook))
local.fill(x=x, y=y, weight=w, dataset="data")
for _ in range(2): local.fill(x=y, y=x, weight=w, dataset="drell-yan")
local.fill(x=[0.5], y=0.5, dataset="data", weight=2.5)
got = hist.Hist(json.load(open(f"{d}/ex.json"), object_hook=uj.object_hook))
proj = hist.Hist(json.load(open(f"{d}/proj.json"), object_hook=uj.object_hook))
ok = np.allclose(got.view(flow=True)["value"], local.view(flow=True)["value"], rtol=1e-12) and \\
     np.allclose(got.view(flow=True)["variance"], local.view(flow=True)["variance"], rtol=1e-12) and \\
     np.allclose(proj.view(flow=True)["value"], local.project("x").view(flow=True)["value"], rtol=1e-12)
print(json.dumps({"ok": bool(ok), "sum": float(local.sum(flow=True).value), "got": float(got.sum(flow=True).value), "proj": float(proj.sum(flow=True).value), "lp": float(local.project("x").sum(flow=True).value)}))
`.replace("sys.argv[1]", JSON.stringify(out)),
  );
  assert.equal(py.ok, true, JSON.stringify(py));
  const snap = await client.snapshot("ex");
  // Summation order differs from hist's; the cells themselves were compared exactly above.
  assert.ok(Math.abs(snap.storage.fields[0].reduce((a, b) => a + b, 0) - py.sum) < 1e-6);
  const stats = await client.stats();
  assert.equal(stats.histograms, 1);
});
