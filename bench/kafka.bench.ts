// npm run bench:kafka [-- --json] [--messages N] [--threads T] [--default-gc]: ev44 messages of 12,400 events (pixel ids over 1M
// pixels, ToF 0-71 ms) pre-produced to a 2-partition topic on a real broker; then (1) a plain reader that only
// reads the bytes (the bound), (2) decode+fill of the three histograms from memory, on the main thread and on the
// fill workers, (3) histd end to end into a hist1d, a hist2d and a dethist of one config: until the histograms
// hold every event produced (`events_per_s`), and until a periodic publish shows them all.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Producer } from "@platformatic/kafka";
import { decodeEvents } from "../src/formats/flatbuffers/index.ts";
import { FillPool } from "../src/kafka/fill-pool.ts";
import { tuneGcForKafka } from "../src/kafka/gc-tuning.ts";
import { createHistogram } from "../src/kafka/histograms.ts";
import { silentLogger } from "../src/kafka/log.ts";
import { Service } from "../src/kafka/service.ts";
import { TopicReader } from "../src/kafka/topic-reader.ts";
import { createTopics } from "../test/kafka/jbi-support.ts";
import { startBroker } from "../test/support/kafka-broker.ts";
import { EVENTS_PER_MESSAGE, ev44Messages } from "./ev44-messages.ts";

/** CPU seconds per kind of thread of this process, from /proc (Linux): the main thread, the fill workers
 * ("WorkerThread") and V8's helper threads ("V8Worker": concurrent and parallel GC, compilation). */
function threadCpuS(): Map<string, number> {
  const by = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return by;
  }
  for (const t of tasks) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const kind = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      by.set(kind, (by.get(kind) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // (a thread that ended meanwhile)
    }
  }
  return by;
}

const { values } = parseArgs({
  options: {
    json: { type: "boolean" },
    messages: { type: "string" },
    threads: { type: "string" },
    "default-gc": { type: "boolean" },
  },
});
// As `histd kafka` runs (the plain reader of step 1 gets the same setting); --default-gc measures without it.
if (!values["default-gc"]) tuneGcForKafka();
// Long enough for the steady state: on short runs the fresh fill workers' JIT warm-up and first touch of their
// partials weigh (4,000 messages gave ~1.7e7 events/s where 12,000 gave ~2.5e7, same code).
const N = Number(values.messages ?? 12_000);
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const E = EVENTS_PER_MESSAGE;
/** CPU seconds (user + system) of a process group (the broker's shell and JVM), from /proc (0 where there is none). */
function brokerCpuS(pgid: number): number {
  let total = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(f[2]) === pgid) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return total;
}
const out = (o: Record<string, unknown>) => console.log(values.json ? JSON.stringify(o) : o);

const broker = await startBroker();
const conn = { bootstrapBrokers: [broker.bootstrap] };
try {
  await createTopics(conn, ["bench", "cmd", "o1", "o2", "o3"]);
  await createTopics(conn, ["bench_events"], 2);
  const msgs = ev44Messages(64);
  const t0 = Date.now();
  const producer = new Producer({ clientId: "bench", ...conn, acks: 1 });
  await producer.send({
    messages: [
      { topic: "bench_events", value: msgs[0], partition: 0, timestamp: BigInt(t0 - 60_000) },
      { topic: "bench_events", value: msgs[0], partition: 1, timestamp: BigInt(t0 - 60_000) },
    ],
  });
  for (let i = 0; i < N; i += 32)
    await producer.send({
      messages: Array.from({ length: Math.min(32, N - i) }, (_, k) => ({
        topic: "bench_events",
        value: msgs[(i + k) % 64],
        partition: (i + k) % 2,
        timestamp: BigInt(t0),
      })),
    });
  await producer.close();
  const total = N * E;

  // (1) the bound: a reader that only counts bytes.
  let n = 0;
  let tA = performance.now();
  const plain = new TopicReader({
    brokers: conn.bootstrapBrokers,
    connection: {},
    topic: "bench_events",
    log: silentLogger,
    onRecord: () => {
      n++;
    },
  });
  await plain.seekToBeginning();
  plain.start();
  while (n < N + 2) await new Promise((r) => setTimeout(r, 5));
  const plainS = (performance.now() - tA) / 1000;
  await plain.close();
  const bound = total / plainS;

  // (2) decode + fill from memory.
  const specs = [
    { type: "hist1d" as const, tofRange: [0, 71_000_000] as [number, number], numBins: 1000 },
    {
      type: "hist2d" as const,
      tofRange: [0, 71_000_000] as [number, number],
      detRange: [0, 1_000_000] as [number, number],
      numBins: [100, 100] as [number, number],
    },
    {
      type: "dethist" as const,
      tofRange: [0, 0] as [number, number],
      detRange: [0, 1_000_000] as [number, number],
      numBins: 1,
      width: 1000,
      height: 1000,
    },
  ].map((x) => ({
    width: 0,
    height: 0,
    leftEdges: [],
    topic: "o",
    dataTopics: ["bench_events"],
    dataBrokers: [broker.bootstrap],
    source: "",
    id: "",
    ...x,
  }));
  const hs = specs.map(createHistogram);
  tA = performance.now();
  for (let i = 0; i < 400; i++) {
    const ev = decodeEvents(msgs[i % 64]);
    if (ev.schema !== "ev44") continue;
    for (const h of hs) h.add(ev.timeOfFlight, ev.pixelId);
  }
  const fillRate = (400 * E) / ((performance.now() - tA) / 1000);

  // (2b) the same on the fill workers (batches of copied messages, as the service hands them over).
  const pool = new FillPool(threads);
  pool.configure(
    specs,
    hs.map((h) => h.counts.length),
  );
  let workerRate = 0;
  for (let rep = 0; rep < 2; rep++) {
    tA = performance.now();
    let batch = pool.newBatch();
    for (let i = 0; i < 1600; i++) {
      const m = msgs[i % 64];
      if (!batch.fits(m.length)) {
        await pool.room();
        pool.submit(batch, 3);
        batch = pool.newBatch();
      }
      batch.push(m);
      batch.fill.push(1, 1, 1);
    }
    pool.submit(batch, 3);
    await pool.barrier();
    workerRate = (1600 * E) / ((performance.now() - tA) / 1000);
  }
  await pool.close();

  // (3) end to end.
  const service = new Service(
    {
      brokers: [broker.bootstrap],
      configTopic: "cmd",
      simulationMode: false,
      logLevel: 4,
      oneShotPlot: false,
    },
    silentLogger,
    { fillThreads: threads },
  );
  await service.start();
  const done = 0;
  let tEnd = 0;
  service.onPublish = (view, info) => {
    const sum = JSON.parse(info).sum as number;
    if (view.shape.length === 1 && sum >= total && !tEnd) tEnd = performance.now();
    void done;
  };
  const topics = ["o1", "o2", "o3"];
  const cfg = {
    cmd: "config",
    input_schema: "ev44",
    output_schema: "hs01",
    start: t0,
    histograms: [
      {
        type: "hist1d",
        data_brokers: [broker.bootstrap],
        data_topics: ["bench_events"],
        tof_range: [0, 71_000_000],
        num_bins: 1000,
        topic: topics[0],
      },
      {
        type: "hist2d",
        data_brokers: [broker.bootstrap],
        data_topics: ["bench_events"],
        tof_range: [0, 71_000_000],
        det_range: [0, 1_000_000],
        num_bins: [100, 100],
        topic: topics[1],
      },
      {
        type: "dethist",
        data_brokers: [broker.bootstrap],
        data_topics: ["bench_events"],
        det_range: [0, 1_000_000],
        width: 1000,
        height: 1000,
        topic: topics[2],
      },
    ],
  };
  // HISTD_BENCH_CPU_PROF=file.cpuprofile: a V8 CPU profile of the main thread over the end-to-end step only.
  const profileTo = process.env.HISTD_BENCH_CPU_PROF;
  const profiler = profileTo ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpuS();
  const broker0 = brokerCpuS(broker.pid);
  tA = performance.now();
  await service.handle(JSON.parse(JSON.stringify(cfg)));
  let tCounted = 0;
  while (!tCounted) {
    if ((await service.counted(0)) >= total) tCounted = performance.now();
    else await new Promise((r) => setTimeout(r, 20));
  }
  while (!tEnd) await new Promise((r) => setTimeout(r, 20));
  const e2e = total / ((tCounted - tA) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const threads1 = threadCpuS();
  const threadDelta = (kind: string) =>
    Number(((threads1.get(kind) ?? 0) - (threads0.get(kind) ?? 0)).toFixed(2));
  const brokerCpu = brokerCpuS(broker.pid) - broker0;
  const wall = (tCounted - tA) / 1000;
  const published = total / ((tEnd - tA) / 1000);
  if (profiler && profileTo) {
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(profileTo, JSON.stringify(profile));
    profiler.disconnect();
  }
  await service.close();
  const late = [...service.publishLateness].sort((a, b) => a - b);
  out({
    e2e_wall_s: Number(wall.toFixed(2)),
    // CPU seconds used while counting: histd (all threads) and the broker JVM; 2 vCPUs give 2 s per wall second.
    histd_cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    broker_cpu_s: Number(brokerCpu.toFixed(2)),
    // The same by thread (Linux): reading and dispatch, filling, and V8's helpers (mostly garbage collection).
    main_thread_cpu_s: threadDelta("MainThread"),
    fill_threads_cpu_s: threadDelta("WorkerThread"),
    v8_helper_threads_cpu_s: threadDelta("V8Worker"),
    bench: "kafka",
    messages: N,
    events: total,
    events_per_s: Math.round(e2e),
    bound_events_per_s: Math.round(bound),
    decode_fill_events_per_s: Math.round(fillRate),
    decode_fill_workers_events_per_s: Math.round(workerRate),
    fill_threads: threads,
    published_events_per_s: Math.round(published),
    ratio_to_bound: Number((e2e / bound).toFixed(3)),
    publish_latency_p99_ms: late[Math.floor(late.length * 0.99)] ?? 0,
  });
} finally {
  await broker.stop();
}
