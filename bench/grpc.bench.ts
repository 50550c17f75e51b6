// `npm run bench:grpc`: the gRPC door against its bounds and peers, in one run (see grpc_bench.py).
// --json prints one JSON object per case.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { startServer } from "../test/grpc/support.ts";
import { repoRoot, venvPython } from "../test/support/python.ts";

const json = process.argv.includes("--json");

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

const histd = await startServer();
const hsPort = await freePort();
const histserv = spawn(venvPython, ["-m", "histserv", "--port", String(hsPort), "--log-level", "WARNING"], {
  stdio: ["ignore", "ignore", "pipe"],
});
await new Promise((r) => setTimeout(r, 2500));
const rows: Record<string, unknown>[] = [];
try {
  for (const mode of ["seed", "prebinned"])
    await new Promise<void>((res, rej) => {
      const py = spawn(
        venvPython,
        [
          resolve(import.meta.dirname, "grpc_bench.py"),
          histd.address,
          `127.0.0.1:${hsPort}`,
          resolve(repoRoot, "example/hist_ir.json"),
          mode,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let buf = "";
      py.stdout.on("data", (d) => {
        buf += d;
        let i = buf.indexOf("\n");
        while (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
          if (!line.startsWith("{")) continue;
          const row = JSON.parse(line) as Record<string, unknown>;
          rows.push(row);
          if (json) console.log(JSON.stringify(row));
          else {
            const f = (v: unknown) => (typeof v === "number" ? v.toFixed(2) : String(v));
            console.log(
              `${String(row.case).padEnd(34)} histd ${f(row.histd_mevs).padStart(7)} Mev/s   ${String(row.reference).padEnd(27)} ${f(row.reference_mevs).padStart(7)} Mev/s   ratio ${f(row.ratio)}${row.server_ms_per_fill == null ? "" : `   server ${f(row.server_ms_per_fill)} ms/fill`}`,
            );
          }
        }
      });
      py.on("exit", (code) => (code === 0 ? res() : rej(new Error(`grpc_bench.py exited ${code}`))));
    });
} finally {
  histserv.kill("SIGTERM");
  await histd.stop();
}
