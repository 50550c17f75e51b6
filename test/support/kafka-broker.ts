// A real single-node Apache Kafka broker (KRaft, combined broker + controller) for integration tests, run
// from Maven Central jars on the local JVM (no Docker). Optional SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256/512)
// and SSL listeners cover the security modes just-bin-it supports.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { makeTestCerts } from "./kafka-certs.ts";
import { host, log4j2Properties, type Ports, serverProperties, testUsers } from "./kafka-config.ts";
import { checkJava, ensureKafkaJars, javaBinary } from "./kafka-jars.ts";

export { testUsers };

export interface BrokerOptions {
  /** Add a SASL_PLAINTEXT listener (PLAIN + SCRAM-SHA-256/512; users in `testUsers`). */
  sasl?: boolean;
  /** Add an SSL listener with a throwaway CA (PEM returned as `caPem`); with `sasl` also SASL_SSL. */
  ssl?: boolean;
  /** PLAINTEXT port; default: a free one. */
  port?: number;
  /** Directory for config, data and broker.log; default: a fresh temp dir. Removed by stop(). */
  dir?: string;
  /** Keep the JVM running after this Node process exits (for `npm run kafka:start`). */
  detached?: boolean;
}

export interface Broker {
  /** host:port of the PLAINTEXT listener. */
  bootstrap: string;
  saslBootstrap?: string;
  sslBootstrap?: string;
  saslSslBootstrap?: string;
  /** CA certificate to trust for the SSL / SASL_SSL listeners. */
  caPem?: string;
  dir: string;
  /** Leader of the broker's process group (`kill -- -pid` stops it). */
  pid: number;
  /** Wall time of the last (re)start: storage format + JVM start + readiness, in ms. */
  startupMs: number;
  /** Kills the JVM and removes its directory. */
  stop(): Promise<void>;
  /** Stops the JVM gracefully and starts it again on the same ports and data, after `downMs` more. */
  restart(downMs?: number): Promise<void>;
}

const readyTimeoutMs = 90_000;
// Short-lived test JVMs start faster with C1 only and the serial GC; 512 MB is plenty for a test broker.
const jvmFlags = [
  "-Xms128m",
  "-Xmx512m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Djava.awt.headless=true",
  "-Djava.net.preferIPv4Stack=true",
];

/** JVM options and classpath; the working directory holds log4j2.properties and server.properties. */
function javaArgs(classpath: string): string[] {
  return [...jvmFlags, "-Dlog4j2.configurationFile=log4j2.properties", "-cp", classpath];
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createConnection({ host, port });
    s.once("connect", () => {
      s.destroy();
      ok(true);
    });
    s.once("error", () => ok(false));
  });
}

function formatStorage(dir: string, classpath: string, sasl: boolean): void {
  // A Kafka cluster id is 16 random bytes in base64url; generating it here saves a JVM start.
  const args = [
    "format",
    "--standalone",
    // One argument with "=": a random id may start with "-", which argparse would take for an option.
    `--cluster-id=${randomBytes(16).toString("base64url")}`,
    "-c",
    "server.properties",
  ];
  if (sasl) {
    const { username, password } = testUsers.scram;
    for (const m of ["SCRAM-SHA-256", "SCRAM-SHA-512"])
      args.push("--add-scram", `${m}=[name=${username},password=${password}]`);
  }
  const r = spawnSync(javaBinary(), [...javaArgs(classpath), "kafka.tools.StorageTool", ...args], {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(
      `Kafka StorageTool format failed (exit ${r.status ?? r.error?.message}):\n${r.stdout}\n${r.stderr}`,
    );
  }
}

// The JVM runs under this shell so that it dies within a second of the Node process that started it, however
// that process ends (a test-runner timeout, SIGKILL, a crash): no broker outlives its test run, and the
// orphaned directory is removed too.
const watchdog = `"$@" & jvm=$!
trap 'kill -TERM $jvm; wait $jvm; exit' TERM
while kill -0 ${process.pid} 2>/dev/null && kill -0 $jvm 2>/dev/null; do sleep 1; done
kill -9 $jvm 2>/dev/null; wait $jvm
kill -0 ${process.pid} 2>/dev/null || rm -rf "$PWD"`;

function launch(dir: string, classpath: string, detached: boolean): ChildProcess {
  const log = openSync(resolve(dir, "broker.log"), "a");
  const cmd = [javaBinary(), ...javaArgs(classpath), "kafka.Kafka", "server.properties"];
  // Its own process group either way, so signalGroup reaches the shell and the JVM together.
  const options = { cwd: dir, stdio: ["ignore", log, log] as ("ignore" | number)[], detached: true };
  const child = detached
    ? spawn(cmd[0], cmd.slice(1), options)
    : spawn("sh", ["-c", watchdog, "histd-kafka-watchdog", ...cmd], options);
  closeSync(log);
  if (detached) child.unref();
  return child;
}

/** Signals the broker's whole process group; a no-op if it is already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // kill(-0) would signal our own process group.
  if (!(pid > 0)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}

function logTail(dir: string, from = 0): string {
  try {
    return readFileSync(resolve(dir, "broker.log"), "utf8").slice(from).split("\n").slice(-30).join("\n");
  } catch {
    return "(no broker.log)";
  }
}

function logSize(dir: string): number {
  try {
    return statSync(resolve(dir, "broker.log")).size;
  } catch {
    return 0;
  }
}

/** Polls the broker log and the listener ports until the broker serves, the JVM dies, or 90 s pass. */
async function waitReady(child: ChildProcess, dir: string, ports: number[], logFrom: number): Promise<void> {
  let exit: string | undefined;
  const onExit = (code: number | null, signal: string | null) => {
    exit = `code ${code ?? signal}`;
  };
  child.once("exit", onExit);
  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exit)
        throw new Error(
          `Kafka broker JVM exited during startup (${exit}). broker.log:\n${logTail(dir, logFrom)}`,
        );
      const log = readFileSync(resolve(dir, "broker.log"), "utf8").slice(logFrom);
      if (log.includes("Kafka Server started")) {
        const open = await Promise.all(ports.map(portOpen));
        if (open.every(Boolean)) return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Kafka broker not ready after ${readyTimeoutMs / 1000} s. broker.log:\n${logTail(dir, logFrom)}`,
        );
      }
      await delay(100);
    }
  } finally {
    child.off("exit", onExit);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => child.once("exit", () => ok()));
}

/** Starts a broker; resolves once every listener accepts connections. */
export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  const t0 = Date.now();
  checkJava();
  const classpath = `${ensureKafkaJars()}/*`;
  const dir = opts.dir ?? mkdtempSync(resolve(tmpdir(), "histd-kafka-"));
  mkdirSync(dir, { recursive: true });
  const ports: Ports = { plain: opts.port ?? (await freePort()), controller: await freePort() };
  if (opts.sasl) ports.sasl = await freePort();
  if (opts.ssl) ports.ssl = await freePort();
  if (opts.sasl && opts.ssl) ports.saslSsl = await freePort();
  const certs = opts.ssl ? makeTestCerts(dir) : undefined;
  writeFileSync(
    resolve(dir, "server.properties"),
    serverProperties(dir, ports, certs?.keystoreFile, certs?.caFile),
  );
  writeFileSync(resolve(dir, "log4j2.properties"), log4j2Properties);
  formatStorage(dir, classpath, opts.sasl ?? false);

  const detached = opts.detached ?? false;
  const listening = [ports.plain, ports.sasl, ports.ssl, ports.saslSsl].filter(
    (p): p is number => p !== undefined,
  );
  let child = launch(dir, classpath, detached);
  // A crashed or killed test run must not leave a JVM behind holding ports and memory.
  const reap = () => signalGroup(child.pid ?? 0, "SIGKILL");
  if (!detached) process.on("exit", reap);

  const stop = async () => {
    process.off("exit", reap);
    signalGroup(child.pid ?? 0, "SIGKILL");
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const addr = (p: number | undefined) => (p === undefined ? undefined : `${host}:${p}`);
  const broker: Broker = {
    bootstrap: `${host}:${ports.plain}`,
    dir,
    pid: child.pid ?? -1,
    startupMs: 0,
    stop,
    restart: async (downMs = 0) => {
      const t = Date.now();
      // SIGTERM runs Kafka's controlled shutdown, so the data survives for the next start.
      signalGroup(child.pid ?? 0, "SIGTERM");
      const killer = setTimeout(() => signalGroup(child.pid ?? 0, "SIGKILL"), 30_000);
      await exited(child);
      clearTimeout(killer);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      const from = logSize(dir);
      child = launch(dir, classpath, detached);
      broker.pid = child.pid ?? -1;
      await waitReady(child, dir, listening, from);
      broker.startupMs = Date.now() - t;
    },
  };
  const saslBootstrap = addr(ports.sasl);
  const sslBootstrap = addr(ports.ssl);
  const saslSslBootstrap = addr(ports.saslSsl);
  if (saslBootstrap) broker.saslBootstrap = saslBootstrap;
  if (sslBootstrap) broker.sslBootstrap = sslBootstrap;
  if (saslSslBootstrap) broker.saslSslBootstrap = saslSslBootstrap;
  if (certs) broker.caPem = certs.caPem;
  try {
    await waitReady(child, dir, listening, 0);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  broker.startupMs = Date.now() - t0;
  return broker;
}
