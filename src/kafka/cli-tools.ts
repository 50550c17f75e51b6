// `histd generate`, `histd view-output` and `histd viewer`: just-bin-it's helper scripts.
import { setTimeout as delay } from "node:timers/promises";
import { Producer } from "@platformatic/kafka";
import {
  decodeHistogramMessage,
  encodeEv42,
  encodeEv44,
  readFileIdentifier,
} from "../formats/flatbuffers/index.ts";
import type { HistogramView } from "./histograms.ts";
import { createLogger } from "./log.ts";
import { type FlagSpec, helpText, parseFlags, securitySpecs, UsageError } from "./options.ts";
import { connectionOptions } from "./security.ts";
import { fakeData } from "./simulation.ts";
import { TopicReader } from "./topic-reader.ts";
import { renderHistogram } from "./viewer.ts";

const common: FlagSpec[] = [
  { key: "brokers", names: ["-b", "--brokers"], kind: "list", help: "the broker addresses (required)" },
  { key: "topic", names: ["-t", "--topic"], kind: "string", help: "the topic (required)" },
  { key: "configFile", names: ["-c", "--config-file"], kind: "string", help: "configuration file" },
];

function parse(argv: string[], specs: FlagSpec[], prog: string): Record<string, unknown> | number {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(helpText(prog, specs));
    return 0;
  }
  try {
    const v = parseFlags(argv, specs);
    if (!v.brokers || !v.topic)
      throw new UsageError("the following arguments are required: -b/--brokers, -t/--topic");
    return v;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${prog}: error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

const brokersOf = (v: Record<string, unknown>) =>
  (v.brokers as string[]).flatMap((b) => b.split(",")).filter(Boolean);

const generateSpecs: FlagSpec[] = [
  ...common,
  {
    key: "numMessages",
    names: ["-n", "--num_messages", "--num-messages"],
    kind: "int",
    help: "messages to send (0 = forever)",
  },
  {
    key: "numEvents",
    names: ["-ne", "--num_events", "--num-events"],
    kind: "int",
    help: "events per message (default 1000)",
  },
  {
    key: "detHist",
    names: ["-dh", "--det-hist"],
    kind: "flag",
    help: "100x100 detector-image data instead of ToF/id",
  },
  { key: "schema", names: ["--schema"], kind: "string", help: "ev42 (default, as just-bin-it) or ev44" },
  { key: "rate", names: ["--interval-ms"], kind: "int", help: "pause between messages in ms (default 1000)" },
  ...securitySpecs,
];

/** generate_event_data.py: Gaussian ToF (5e7, 1e7) over (0, 1e8) and ids (4999, 999) over (1, 10000). */
export async function runGenerate(argv: string[]): Promise<number> {
  const v = parse(argv, generateSpecs, "histd generate");
  if (typeof v === "number") return v;
  const n = (v.numMessages as number | undefined) ?? 0;
  const ne = (v.numEvents as number | undefined) ?? 1000;
  const schema = (v.schema as string | undefined) ?? "ev42";
  const pause = (v.rate as number | undefined) ?? 1000;
  const producer = new Producer({
    clientId: "histd-generate",
    bootstrapBrokers: brokersOf(v),
    ...connectionOptions(v),
  });
  let first: bigint | undefined;
  let last = 0n;
  try {
    for (let i = 1; n === 0 || i <= n; i++) {
      const pulse = BigInt(Date.now()) * 1_000_000n;
      first ??= pulse;
      last = pulse;
      let tof: Int32Array;
      let det: Int32Array;
      if (v.detHist) {
        det = new Int32Array(100 * ne);
        for (let row = 0, k = 0; row < 100; row++) {
          const d = fakeData([0, 100], ne);
          for (let j = 0; j < ne; j++, k++) det[k] = row * 100 + d[j];
        }
        tof = new Int32Array(0);
      } else {
        tof = fakeData([0, 100_000_000], ne);
        det = fakeData([1, 10000], ne);
      }
      const bytes =
        schema === "ev44"
          ? encodeEv44({
              sourceName: "just-bin-it",
              messageId: BigInt(i),
              referenceTime: BigInt64Array.of(pulse),
              referenceTimeIndex: Int32Array.of(0),
              timeOfFlight: tof,
              pixelId: det,
            })
          : encodeEv42({
              sourceName: "just-bin-it",
              messageId: BigInt(i),
              pulseTime: pulse,
              timeOfFlight: new Uint32Array(tof.buffer),
              detectorId: new Uint32Array(det.buffer),
            });
      await producer.send({
        messages: [
          { topic: v.topic as string, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
        ],
      });
      if (n > 0) {
        const w = 30;
        const done = Math.round((i / n) * w);
        process.stderr.write(`\r[${"#".repeat(done)}${".".repeat(w - done)}] ${i}/${n}`);
      }
      if (n === 0 || i < n) await delay(pause);
    }
    if (n > 0) process.stderr.write("\n");
  } finally {
    await producer.close();
  }
  console.log(`Num messages = ${n}, total events = ${n * (v.detHist ? 100 * ne : ne)}`);
  console.log(`First timestamp = ${first}\nLast timestamp = ${last}`);
  return 0;
}

function viewOf(msg: ReturnType<typeof decodeHistogramMessage>): HistogramView {
  const data = Float64Array.from(msg.data as ArrayLike<number | bigint>, Number);
  return {
    shape: msg.currentShape,
    edges: msg.dimMetadata.map((d) =>
      Float64Array.from((d.binBoundaries ?? []) as ArrayLike<number | bigint>, Number),
    ),
    data,
    intData: false,
  };
}

/** view_output_messages.py, for every partition: the last existing message, then new ones, as text. */
export async function runViewOutput(argv: string[]): Promise<number> {
  const v = parse(argv, [...common, ...securitySpecs], "histd view-output");
  if (typeof v === "number") return v;
  const reader = new TopicReader({
    brokers: brokersOf(v),
    connection: connectionOptions(v),
    topic: v.topic as string,
    log: createLogger(3),
    onRecord: (value, ts, partition) => {
      const id = readFileIdentifier(value);
      console.log(
        `timestamp ${ts}, topic ${v.topic}, partition ${partition}, schema ${id}, ${value.length} bytes`,
      );
      if (id === "hs00" || id === "hs01") {
        try {
          const m = decodeHistogramMessage(value);
          const view = viewOf(m);
          let sum = 0;
          for (const x of view.data) sum += x;
          console.log(`  shape [${m.currentShape.join(", ")}], info ${m.info}\n  Total events: ${sum}`);
        } catch (e) {
          console.log(`  undecodable: ${e instanceof Error ? e.message : e}`);
        }
      }
    },
  });
  await reader.seekLast();
  const stop = new Promise<void>((r) => {
    process.once("SIGINT", r);
    process.once("SIGTERM", r);
  });
  reader.start();
  await stop;
  await reader.close();
  return 0;
}

/** viewer.py: waits for the next histogram on the topic, plots it to a PNG and the terminal, exits. */
export async function runViewer(argv: string[]): Promise<number> {
  const specs: FlagSpec[] = [
    ...common,
    { key: "log", names: ["-l", "--log-scale"], kind: "string", help: "log scale (any non-empty value)" },
    { key: "png", names: ["-p", "--png"], kind: "string", help: "PNG file (default histogram.png)" },
    {
      key: "latest",
      names: ["--latest"],
      kind: "flag",
      help: "plot the newest existing message instead of waiting for the next",
    },
    ...securitySpecs,
  ];
  const v = parse(argv, specs, "histd viewer");
  if (typeof v === "number") return v;
  let got: Buffer | undefined;
  const reader = new TopicReader({
    brokers: brokersOf(v),
    connection: connectionOptions(v),
    topic: v.topic as string,
    log: createLogger(3),
    onRecord: (value) => {
      const id = readFileIdentifier(value);
      if (id === "hs00" || id === "hs01") got = Buffer.from(value);
    },
  });
  if (v.latest) await reader.seekLast();
  else await reader.seek();
  reader.start();
  while (!got) await delay(100);
  await reader.close();
  const m = decodeHistogramMessage(got);
  renderHistogram(viewOf(m), m.info ?? "", {
    png: (v.png as string | undefined) ?? "histogram.png",
    log: Boolean(v.log),
  });
  return 0;
}
