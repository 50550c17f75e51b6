// Bearer tokens (scoping and UNAUTHENTICATED) over TLS, with a self-signed certificate made here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runPy, type ServerProcess, startServer } from "./support.ts";

let server: ServerProcess;
const dir = mkdtempSync(join(tmpdir(), "histd-tls-"));

before(async () => {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  writeFileSync(join(dir, "tokens"), "# tokens\nalice-token\nbob-token\n");
  server = await startServer(
    ["--tokens", join(dir, "tokens"), "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")],
    { histIr: false },
  );
});
after(async () => {
  await server.stop();
});

test("tokens scope histograms; missing/unknown tokens are UNAUTHENTICATED; TLS", async () => {
  const r = await runPy<Record<string, unknown>>("tokens_tls.py", [
    `localhost:${server.port}`,
    join(dir, "cert.pem"),
  ]);
  assert.equal(r.anonymous, "UNAUTHENTICATED");
  assert.equal(r["unknown token"], "UNAUTHENTICATED");
  assert.deepEqual(r["alice sees"], ["shared-name"]);
  assert.deepEqual(r["bob sees"], ["bob-only"]);
  assert.equal(r["bob reads alice's"], "NOT_FOUND");
  assert.equal(r["alice sum"], 99); // linspace(0, 1, 100): 1.0 is in the overflow bin
  assert.equal(r["stats alice"], 1);
});
