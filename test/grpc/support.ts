// Starts the real server process (bin/haas-server) on a free port and runs Python clients from .venv against it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { repoRoot, venvPython } from "../support/python.ts";

export interface ServerProcess {
  port: number;
  address: string;
  outputDir: string;
  proc: ChildProcess;
  /** Everything the server logged so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startServer(
  args: string[] = [],
  opts: { histIr?: boolean } = {},
): Promise<ServerProcess> {
  const outputDir = mkdtempSync(join(tmpdir(), "histd-grpc-"));
  const irArgs = opts.histIr === false ? [] : ["--hist-ir", `@${resolve(repoRoot, "example/hist_ir.json")}`];
  const proc = spawn(
    resolve(repoRoot, "bin/haas-server"),
    ["--port", "0", "--host", "127.0.0.1", ...irArgs, "--output-dir", outputDir, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let log = "";
  proc.stdout?.on("data", (d) => {
    log += d;
  });
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${log}`)), 20000);
    proc.stderr?.on("data", (d) => {
      log += d;
      const m = /listening on \S+:(\d+) with max_workers=/.exec(log);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    proc.on("exit", (code) => rej(new Error(`server exited (${code}):\n${log}`)));
  });
  return {
    port,
    address: `127.0.0.1:${port}`,
    outputDir,
    proc,
    log: () => log,
    stop: () =>
      new Promise<void>((res) => {
        if (proc.exitCode !== null) return res();
        proc.once("exit", () => res());
        proc.kill("SIGTERM");
      }),
  };
}

/** Runs test/grpc/py/<script> with args; resolves with parsed JSON from its last stdout line. Rejects with
 * stderr when the script fails (its assertions are the test's). */
export function runPy<T = unknown>(script: string, args: string[], timeoutMs = 170_000): Promise<T> {
  return new Promise((res, rej) => {
    const p = spawn(venvPython, [resolve(import.meta.dirname, "py", script), ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) return rej(new Error(`${script} failed (${code}):\n${err}\n${out}`));
      const lines = out.trim().split("\n");
      try {
        res(JSON.parse(lines[lines.length - 1]) as T);
      } catch {
        rej(new Error(`${script}: no JSON result:\n${out}\n${err}`));
      }
    });
  });
}
