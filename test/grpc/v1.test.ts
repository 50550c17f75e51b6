// histd.v1 through the project's Python client, and the later HaaS protocol from a client compiled from the
// spec; every histogram is compared with boost-histogram/hist filled locally in Python on the same arrays.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../support/python.ts";
import { runPy, type ServerProcess, startServer } from "./support.ts";

let server: ServerProcess;

before(async () => {
  server = await startServer(["--max-message-mib", "32"]);
});
after(async () => {
  await server.stop();
});

test("histd.v1 with histd_client: fills, fill ids, dense, snapshots, files, errors, concurrency, watch", async () => {
  const r = await runPy<{ errors: Record<string, string>; describe_ms_during_1M_fills: { max: number } }>(
    "v1_client.py",
    [server.address, server.outputDir],
  );
  assert.match(r.errors["corrupt lz4"], /corrupt lz4 data/);
  assert.match(r.errors["short bytes"], /needs 80 bytes, got 72/);
  assert.match(r.errors["fill_many one bad"], /^fill 1: unknown axis name 'zz'/);
  assert.match(r.errors.oversize, /larger than max/);
  assert.ok(r.describe_ms_during_1M_fills.max < 1000);
  assert.equal(server.proc.exitCode, null, "server still running");
});

test("HaaS HistogrammerService (Init/Fill/SnapShot/Flush, Blosc arrays) from a spec-compiled client", async () => {
  const r = await runPy<{ ok: boolean }>("haas_client.py", [server.address, server.outputDir]);
  assert.equal(r.ok, true);
});

test("the Python client ships the same histd.v1 proto as the server", () => {
  const a = readFileSync(resolve(repoRoot, "proto/histd/v1/histd.proto"), "utf8");
  const b = readFileSync(
    resolve(repoRoot, "python/histd_client/histd_client/proto/histd/v1/histd.proto"),
    "utf8",
  );
  assert.equal(b, a, "copy proto/histd/v1/histd.proto into python/histd_client/histd_client/proto/histd/v1/");
  const seed = readFileSync(resolve(repoRoot, "proto/seed.proto"), "utf8");
  assert.equal(
    readFileSync(resolve(repoRoot, "python/histd_client/histd_client/proto/seed.proto"), "utf8"),
    seed,
  );
});
