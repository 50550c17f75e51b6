// Runs Python peers (boost-histogram, hist, numpy, ...) from the project's .venv, the test oracles.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const venvPython = resolve(repoRoot, ".venv/bin/python");
export const sharedDir = resolve(repoRoot, "../shared");

/** Runs a Python script with `input` on stdin; returns stdout. Throws with stderr on failure. */
export function runPython(script: string, input: string | Uint8Array = "", args: string[] = []): string {
  const r = spawnSync(venvPython, ["-c", script, ...args], {
    input,
    maxBuffer: 1 << 30,
    encoding: "utf8",
    cwd: repoRoot,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs a Python script and parses its stdout as JSON (Python's json.dumps with NaN/Infinity allowed). */
export function runPythonJson<T>(script: string, input: string | Uint8Array = ""): T {
  return JSON.parse(runPython(script, input)) as T;
}
