// `histd kafka` as a real child process (bin/just-bin-it), for crash tests and the scale benchmark: started on a
// broker, waited for until it serves, killed with SIGKILL or stopped with SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const root = resolve(import.meta.dirname, "../..");

export interface HistdProcess {
  child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `just-bin-it <args>` and resolves once it logs that the service started. */
export async function startHistd(args: string[], timeoutMs = 60_000): Promise<HistdProcess> {
  const child = spawn(resolve(root, "bin/just-bin-it"), ["-l", "2", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (b: Buffer) => {
    text += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    text += b.toString();
  });
  const exited = once(child, "exit");
  const end = Date.now() + timeoutMs;
  while (!text.includes("service started")) {
    if (child.exitCode !== null) throw new Error(`histd exited early (${child.exitCode}):\n${text}`);
    if (Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`histd did not start in ${timeoutMs} ms:\n${text}`);
    }
    await delay(50);
  }
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exited;
  };
  return { child, log: () => text, kill: () => signal("SIGKILL"), stop: () => signal("SIGTERM") };
}
