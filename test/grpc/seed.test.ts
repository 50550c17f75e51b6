// The drop-in: the seed's protocol from a grpcio client compiled from haas-protocols.md §1, compared with
// hist filled locally on the same arrays, through the .coffea, .h5 and .json flushes; bad input; log lines.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../support/python.ts";
import { runPy, type ServerProcess, startServer } from "./support.ts";

let server: ServerProcess;
const LIMIT = 8 * 1024 * 1024;

before(async () => {
  server = await startServer(["--max-workers", "3", "--max-message-mib", "8"]);
});
after(async () => {
  await server.stop();
});

test("seed protocol: fills equal hist's, flushed files load equal, bad input refused", async () => {
  const r = await runPy<{
    errors: Record<string, string>;
    last_fill_message_tail: string;
    local_repr_tail: string;
  }>("seed_client.py", [
    server.address,
    server.outputDir,
    resolve(repoRoot, "example/hist_ir.json"),
    String(LIMIT),
  ]);
  // The "# Sum:" text the server returns is hist's repr of the same histogram.
  assert.equal(r.last_fill_message_tail, r.local_repr_tail);
  assert.match(r.errors["length mismatch"], /needs 80 bytes, got 79/);
  assert.match(r.errors["unknown axis"], /unknown axis name 'z'/);
  assert.match(r.errors["flush ../escape.coffea"], /escapes the output directory/);
  assert.match(r.errors["flush /tmp/abs.coffea"], /absolute path/);
  assert.match(r.errors["flush hist.txt"], /must end in/);
  assert.match(r.errors.oversize, /RESOURCE_EXHAUSTED/);
  const log = server.log();
  assert.match(
    log,
    /^INFO:haas-server:Histogram setup successfully: Hist\(\n {2}Regular\(10, -2, 2, name='x', label='X Axis'\),/m,
  );
  assert.match(log, /storage=Weight\(\)\) # Sum: WeightedSum\(value=0, variance=0\)\n/);
  assert.match(
    log,
    /^INFO:haas-server:Histogram server started, listening on 127\.0\.0\.1:\d+ with max_workers=3$/m,
  );
  assert.match(log, /^INFO:haas-server:Filled histogram with 7,200,000 bytes$/m);
  assert.match(log, /^INFO:haas-server:Flushed histogram to hist\.coffea$/m);
  assert.match(log, /^INFO:haas-server:Flushed histogram to sub\/dir\/hist\.h5$/m);
});
