// `npm run kafka:start` / `npm run kafka:stop`: a local Kafka broker on 127.0.0.1:9092 for trying histd
// by hand. It runs in the background from .kafka/broker (state in .kafka/broker.json) until stopped.
//   node scripts/kafka/broker.ts start [--sasl] [--ssl] [--port N]
//   node scripts/kafka/broker.ts stop
//   node scripts/kafka/broker.ts fetch     (only download the jars, e.g. to warm a CI cache)
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { signalGroup, startBroker } from "../../test/support/kafka-broker.ts";
import { ensureKafkaJars, kafkaDir } from "../../test/support/kafka-jars.ts";

const stateFile = resolve(kafkaDir, "broker.json");
const brokerDir = resolve(kafkaDir, "broker");

interface State {
  pid: number;
  dir: string;
  bootstrap: string;
  saslBootstrap?: string;
  sslBootstrap?: string;
  saslSslBootstrap?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(): State | undefined {
  return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as State) : undefined;
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sasl: { type: "boolean" },
      ssl: { type: "boolean" },
      port: { type: "string", default: "9092" },
    },
  });
  const running = readState();
  if (running && alive(running.pid)) {
    console.log(`Kafka broker already running (pid ${running.pid}) at ${running.bootstrap}`);
    return;
  }
  // Leftovers of a broker that died without `stop` would make the storage format fail.
  rmSync(brokerDir, { recursive: true, force: true });
  const b = await startBroker({
    port: Number(values.port),
    dir: brokerDir,
    detached: true,
    sasl: values.sasl ?? false,
    ssl: values.ssl ?? false,
  });
  const state: State = { pid: b.pid, dir: b.dir, bootstrap: b.bootstrap };
  if (b.saslBootstrap) state.saslBootstrap = b.saslBootstrap;
  if (b.sslBootstrap) state.sslBootstrap = b.sslBootstrap;
  if (b.saslSslBootstrap) state.saslSslBootstrap = b.saslSslBootstrap;
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  if (b.caPem) writeFileSync(resolve(kafkaDir, "ca.pem"), b.caPem);
  console.log(
    `Kafka broker ready in ${(b.startupMs / 1000).toFixed(1)} s (pid ${b.pid}, log ${b.dir}/broker.log)`,
  );
  for (const [k, v] of Object.entries(state)) if (k.endsWith("ootstrap")) console.log(`  ${k}: ${v}`);
  if (b.caPem) console.log(`  CA certificate: ${resolve(kafkaDir, "ca.pem")}`);
}

async function stop(): Promise<void> {
  const state = readState();
  if (!state) {
    console.log("no Kafka broker started by kafka:start");
    return;
  }
  signalGroup(state.pid, "SIGTERM");
  for (let waited = 0; alive(state.pid) && waited < 30_000; waited += 200) await delay(200);
  if (alive(state.pid)) signalGroup(state.pid, "SIGKILL");
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  rmSync(resolve(kafkaDir, "ca.pem"), { force: true });
  console.log(`Kafka broker (pid ${state.pid}) stopped`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "start") await start(rest);
  else if (command === "stop") await stop();
  else if (command === "fetch") console.log(`Kafka jars in ${ensureKafkaJars()}`);
  else
    throw new Error(`usage: node scripts/kafka/broker.ts start [--sasl] [--ssl] [--port N] | stop | fetch`);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
