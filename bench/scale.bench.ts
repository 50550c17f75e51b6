// npm run bench:scale [-- --json] [--messages N] [--runs R] [--instances 1,2,3] [--skip-inproc] [--skip-big]
// [--skip-procs] [--skip-grpc]: scale-out and the cost of durable state in the Kafka door, on a real broker from
// startBroker(). ev44 messages of 12,400 events (pixel ids over 1M pixels, ToF 0-71 ms, as bench/kafka.bench.ts) are
// pre-produced to a 6-partition topic, with a `start` before them in every config so histd reads that history.
//  1. one Service in-process (as bench:kafka: a hist1d, a hist2d and a dethist of one config) until the histograms
//     hold every event: no state dir, --state-dir at the default 5 s checkpoint interval, and at 1 s; R rounds with
//     the cases interleaved, and each state case's ratio to "no state" of the same round (the target: >= 0.95).
//  2. a 1e8-bin Kafka-door histogram (dethist 10000 x 10000): checkpoint cut (the readers paused, the fill workers
//     drained and gathered) and write time, file size, the longest event-loop stall during a checkpoint, and the
//     restore (a new Service on the same state dir).
//  3. 1, 2 and 3 real `just-bin-it` processes (bin/just-bin-it, --group when it has one) on the 6-partition topic:
//     from the config command on the config topic until the published hist1d's info "sum" is every event.
//  4. the gRPC door's --state-dir and --wal fill rates (bench/state.bench.ts --fills-only, a child process).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Producer } from "@platformatic/kafka";
import { decodeHistogramMessage } from "../src/formats/flatbuffers/index.ts";
import { KAFKA_CHECKPOINT, loadKafkaCheckpoint } from "../src/kafka/checkpoint.ts";
import { tuneGcForKafka } from "../src/kafka/gc-tuning.ts";
import { type Logger, silentLogger } from "../src/kafka/log.ts";
import { Service } from "../src/kafka/service.ts";
import { TopicReader } from "../src/kafka/topic-reader.ts";
import { type HistdProcess, startHistd } from "../test/kafka/histd-process.ts";
import { createTopics } from "../test/kafka/jbi-support.ts";
import { startBroker } from "../test/support/kafka-broker.ts";
import { EVENTS_PER_MESSAGE, ev44Messages } from "./ev44-messages.ts";

const { values } = parseArgs({
  options: {
    json: { type: "boolean" },
    messages: { type: "string" },
    runs: { type: "string" },
    instances: { type: "string" },
    "skip-inproc": { type: "boolean" },
    "skip-big": { type: "boolean" },
    "big-live": { type: "boolean" },
    "skip-procs": { type: "boolean" },
    "skip-grpc": { type: "boolean" },
  },
});
// The in-process services run as `histd kafka` does.
tuneGcForKafka();
const N = Number(values.messages ?? 6000);
const RUNS = Number(values.runs ?? 3);
const INSTANCES = (values.instances ?? "1,2,3").split(",").map(Number);
const E = EVENTS_PER_MESSAGE;
const PARTITIONS = 6;
const root = resolve(import.meta.dirname, "..");
// Every row carries the 1-minute load average: on a shared 2-core box other work skews the numbers.
const out = (o: Record<string, unknown>) => {
  const row = { ...o, load_1m: Number(loadavg()[0].toFixed(2)) };
  console.log(values.json ? JSON.stringify(row) : row);
};
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r3 = (x: number) => Number(x.toFixed(3));
const r1 = (x: number) => Number(x.toFixed(1));

const broker = await startBroker();
const conn = { bootstrapBrokers: [broker.bootstrap] };
const dirs: string[] = [];
const procs = new Set<HistdProcess>();
/** A Kafka-door Service in this process on the bench's broker (config topic "cmd"). */
const inProcess = (
  stateDir: string | undefined,
  checkpointIntervalS: number | undefined,
  log: Logger = silentLogger,
) =>
  new Service(
    {
      brokers: [broker.bootstrap],
      configTopic: "cmd",
      simulationMode: false,
      logLevel: 4,
      oneShotPlot: false,
      stateDir,
      checkpointIntervalS,
    },
    log,
  );

const stateDir = () => {
  const d = mkdtempSync(join(tmpdir(), "histd-bench-scale-"));
  dirs.push(d);
  return d;
};

/** One message per partition at t0 - 60 s (before every config's `start`), then `n` messages round robin at t0;
 * with `lateMs` one more per partition at that time (after a config's `stop`, which ends the histogram). */
async function preProduce(
  topic: string,
  msgs: Buffer[],
  n: number,
  t0: number,
  lateMs?: number,
): Promise<void> {
  const producer = new Producer({ clientId: "bench", ...conn, acks: 1 });
  try {
    await producer.send({
      messages: Array.from({ length: PARTITIONS }, (_, p) => ({
        topic,
        value: msgs[0],
        partition: p,
        timestamp: BigInt(t0 - 60_000),
      })),
    });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 32) {
      sends.push(
        producer.send({
          messages: Array.from({ length: Math.min(32, n - i) }, (_, k) => ({
            topic,
            value: msgs[(i + k) % msgs.length],
            partition: (i + k) % PARTITIONS,
            timestamp: BigInt(t0),
          })),
        }),
      );
      if (sends.length >= 4) await sends.shift();
    }
    await Promise.all(sends);
    if (lateMs !== undefined)
      await producer.send({
        messages: Array.from({ length: PARTITIONS }, (_, p) => ({
          topic,
          value: msgs[0],
          partition: p,
          timestamp: BigInt(lateMs),
        })),
      });
  } finally {
    await producer.close();
  }
}

/** bench:kafka's three histograms (hist1d 1000, hist2d 100x100, dethist 1000x1000) on `topic`, output to `outs`. */
function threeHistograms(topic: string, outs: string[]) {
  const base = { data_brokers: [broker.bootstrap], data_topics: [topic] };
  return [
    { ...base, type: "hist1d", tof_range: [0, 71_000_000], num_bins: 1000, topic: outs[0] },
    {
      ...base,
      type: "hist2d",
      tof_range: [0, 71_000_000],
      det_range: [0, 1_000_000],
      num_bins: [100, 100],
      topic: outs[1],
    },
    { ...base, type: "dethist", det_range: [0, 1_000_000], width: 1000, height: 1000, topic: outs[2] },
  ];
}

/** A config command (parsed back from its JSON text, as Service.handle() takes it). */
function config(start: number, histograms: Record<string, unknown>[], stop?: number) {
  const cmd = { cmd: "config", input_schema: "ev44", output_schema: "hs01", start, stop, histograms };
  return JSON.parse(JSON.stringify(cmd));
}

/** Resolves once `fn` returns true, polling every `ms`. */
async function until(fn: () => boolean | Promise<boolean>, ms: number, timeoutMs: number, what: string) {
  const end = performance.now() + timeoutMs;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(ms);
  }
}

try {
  await createTopics(conn, ["cmd", "o1", "o2", "o3", "big_out"]);
  await createTopics(conn, ["scale_events", "big_events"], PARTITIONS);
  const t0 = Date.now();
  const tP = performance.now();
  await preProduce("scale_events", ev44Messages(64), N, t0);
  const total = N * E;
  out({
    bench: "scale",
    step: "produced",
    messages: N,
    events: total,
    partitions: PARTITIONS,
    produce_s: r1((performance.now() - tP) / 1000),
  });

  // (1) One Service in-process: no state, --state-dir every 5 s (the default), every 1 s.
  if (!values["skip-inproc"]) {
    const cases = [
      { name: "no state", interval: undefined as number | undefined },
      { name: "--state-dir (5 s)", interval: 5 },
      { name: "--state-dir --checkpoint-interval 1", interval: 1 },
    ];
    const rates = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    const ratios = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    // Round -1 warms up (JIT, page cache) and is not counted.
    for (let round = -1; round < RUNS; round++) {
      let none = 0;
      for (const c of round < 0 ? cases.slice(0, 1) : cases) {
        const dir = c.interval === undefined ? undefined : stateDir();
        const service = inProcess(dir, c.interval);
        await service.start();
        const ck0 = service.counters.checkpoints;
        const cuts: number[] = [];
        const writes: number[] = [];
        let seen = service.lastCheckpoint;
        const watch = setInterval(() => {
          const l = service.lastCheckpoint;
          if (l && l !== seen) {
            seen = l;
            cuts.push(l.cutMs);
            writes.push(l.writeMs);
          }
        }, 5);
        const tA = performance.now();
        await service.handle(config(t0, threeHistograms("scale_events", ["o1", "o2", "o3"])));
        await until(async () => (await service.counted(0)) >= total, 20, 300_000, "every event counted");
        const wall = (performance.now() - tA) / 1000;
        clearInterval(watch);
        const ckpts = service.counters.checkpoints - ck0;
        await service.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
        const rate = total / wall;
        if (round < 0) continue;
        if (c.interval === undefined) none = rate;
        rates.get(c.name)?.push(rate);
        if (c.interval !== undefined) ratios.get(c.name)?.push(rate / none);
        out({
          bench: "scale",
          step: "in-process",
          case: c.name,
          round,
          wall_s: r3(wall),
          events_per_s: Math.round(rate),
          ratio_to_no_state: c.interval === undefined ? 1 : r3(rate / none),
          checkpoints: ckpts,
          cut_ms_max: cuts.length ? r1(Math.max(...cuts)) : null,
          // The readers are paused for the cuts: their share of the run is the direct cost.
          cut_ms_total: r1(cuts.reduce((a, b) => a + b, 0)),
          cut_share_of_wall: r3(cuts.reduce((a, b) => a + b, 0) / 1000 / wall),
          write_ms_max: writes.length ? r1(Math.max(...writes)) : null,
        });
      }
    }
    for (const c of cases) {
      const r = rates.get(c.name) ?? [];
      const q = ratios.get(c.name) ?? [];
      out({
        bench: "scale",
        step: "in-process summary",
        case: c.name,
        events_per_s_median: Math.round(median(r)),
        events_per_s_min: Math.round(Math.min(...r)),
        events_per_s_max: Math.round(Math.max(...r)),
        ratio_to_no_state_median: c.interval === undefined ? 1 : r3(median(q)),
        ratio_to_no_state_min: c.interval === undefined ? 1 : r3(Math.min(...q)),
        cost_pct_median: c.interval === undefined ? 0 : r1((1 - median(q)) * 100),
        target: c.interval === undefined ? undefined : "cost <= 5%",
      });
    }
  }

  // (2) A 1e8-bin Kafka-door histogram (dethist 10000 x 10000: 800 MB of counts): checkpoint and restore. Not sent
  // to Kafka (noOutput): an 800 MB hs01 message is beyond any broker's message.max.bytes (100 MB on the test
  // broker). Its periodic publishes (summing the workers' partials, the sum and the image layout: seconds of main
  // thread per round) would be measured along, so the histogram is made to finish first: `stop` after its 64
  // messages and one message per partition after that; a finished histogram is not published again. With
  // --big-live the same without `stop`: one checkpoint while the periodic publishes run.
  if (!values["skip-big"]) {
    const BIG_MSGS = 64;
    await preProduce(
      "big_events",
      ev44Messages(BIG_MSGS, { pixels: 100_000_000, lo: 1, seed: 7, pulseMs: t0 }),
      BIG_MSGS,
      t0,
      t0 + 60_000,
    );
    const bigTotal = BIG_MSGS * E;
    const bigConfig = (stop?: number) =>
      config(
        t0,
        [
          {
            type: "dethist",
            data_brokers: [broker.bootstrap],
            data_topics: ["big_events"],
            det_range: [1, 100_000_000],
            width: 10_000,
            height: 10_000,
            topic: "big_out",
            id: "big",
          },
        ],
        stop,
      );
    const bigService = (dir: string, log: Logger = silentLogger) => {
      const s = inProcess(dir, 3600, log); // only the checkpoints this bench asks for
      s.noOutput = true;
      return s;
    };
    /** One service.checkpoint() with the longest event-loop stall during it. */
    const timedCheckpoint = async (service: Service, dir: string) => {
      let maxStall = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        maxStall = Math.max(maxStall, now - last);
        last = now;
      }, 1);
      const tA = performance.now();
      const ok = await service.checkpoint();
      const roundS = (performance.now() - tA) / 1000;
      clearInterval(ticker);
      const l = service.lastCheckpoint;
      return {
        ok,
        cells: 100_000_000,
        bytes: l?.bytes,
        file_bytes: statSync(join(dir, `${KAFKA_CHECKPOINT}.ckpt`)).size,
        cut_ms: l ? Math.round(l.cutMs) : null,
        write_ms: l ? Math.round(l.writeMs) : null,
        checkpoint_s: r3(roundS),
        max_event_loop_stall_ms: Math.round(maxStall),
      };
    };
    const dir = stateDir();
    const service = bigService(dir);
    let finished = false;
    service.onPublish = (_view, info) => {
      if ((JSON.parse(info) as { state?: string }).state === "FINISHED") finished = true;
    };
    await service.start();
    const tC = performance.now();
    await service.handle(bigConfig(t0 + 1000));
    await until(() => finished, 50, 300_000, "the 1e8-bin histogram to finish");
    const finishedS = (performance.now() - tC) / 1000;
    const counted = await service.counted(0);
    for (let i = 0; i < 3; i++)
      out({
        bench: "scale",
        step: "1e8-bin checkpoint (finished histogram)",
        ...(await timedCheckpoint(service, dir)),
        config_to_finished_s: i === 0 ? r3(finishedS) : undefined,
        counted: i === 0 ? counted : undefined,
      });
    await service.close();
    // Restore: the file alone, then a new Service on the same directory (load, start the config with the restored
    // counts, and the checkpoint start() writes before it serves).
    const tL = performance.now();
    const ckpt = await loadKafkaCheckpoint(dir);
    const loadS = (performance.now() - tL) / 1000;
    let fileSum = 0;
    for (const x of ckpt?.counts[0] ?? []) fileSum += x;
    let restoredAt = 0;
    const log: Logger = {
      ...silentLogger,
      info: (m: string) => {
        if (m.startsWith("State: restored")) restoredAt = performance.now();
      },
    };
    const tR = performance.now();
    const again = bigService(dir, log);
    await again.start();
    const startS = (performance.now() - tR) / 1000;
    const sum = await again.counted(0);
    await again.close();
    out({
      bench: "scale",
      step: "1e8-bin restore",
      load_checkpoint_s: r3(loadS),
      restored_in_service_s: restoredAt ? r3((restoredAt - tR) / 1000) : null,
      service_start_s: r3(startS),
      restored_sum: sum,
      restored_equal: sum === bigTotal && fileSum === bigTotal && counted === bigTotal,
    });
    rmSync(dir, { recursive: true, force: true });

    if (values["big-live"]) {
      const dir = stateDir();
      const live = bigService(dir);
      await live.start();
      const tA = performance.now();
      await live.handle(bigConfig());
      const all = (BIG_MSGS + PARTITIONS) * E; // no stop: the late messages count too
      await until(async () => (await live.counted(0)) >= all, 1000, 600_000, "the live 1e8-bin histogram");
      const countedS = (performance.now() - tA) / 1000;
      const row = await timedCheckpoint(live, dir);
      const late = [...live.publishLateness].sort((x, y) => x - y);
      await live.close();
      out({
        bench: "scale",
        step: "1e8-bin checkpoint (live, periodic publishes running)",
        ...row,
        config_to_counted_s: r3(countedS),
        publish_rounds: late.length,
        publish_lateness_ms_median: Math.round(median(late)),
        publish_lateness_ms_max: Math.round(late.at(-1) ?? 0),
      });
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // (3) 1, 2, 3 real processes on the 6-partition topic.
  if (!values["skip-procs"]) {
    const help = spawnSync(resolve(root, "bin/just-bin-it"), ["--help"], { encoding: "utf8" });
    const hasGroup = `${help.stdout}${help.stderr}`.includes("--group");
    // One instance without --group (its fill workers) for reference, then 1, 2, 3 of one --group (no fill workers
    // in group mode: partitions are the unit of scale).
    const runs = [{ n: 1, group: false }, ...(hasGroup ? INSTANCES.map((n) => ({ n, group: true })) : [])];
    if (!hasGroup)
      out({ bench: "scale", step: "processes", note: "just-bin-it has no --group yet: 1 instance only" });
    let one = 0;
    let run = 0;
    for (const { n, group } of runs) {
      run++;
      const cmd = `scale_cmd_${run}`;
      const outs = [`scale_o1_${run}`, `scale_o2_${run}`, `scale_o3_${run}`];
      await createTopics(conn, [cmd, ...outs]);
      const args = ["--no-http", "-b", broker.bootstrap, "-t", cmd];
      if (group) args.push("--group", `scale_group_${run}`);
      const ps = await Promise.all(Array.from({ length: n }, () => startHistd(args)));
      for (const p of ps) procs.add(p);
      // The published hist1d's sum, as it arrives.
      let sum = 0;
      let publishes = 0;
      // The first publish showing counts: when it came and what it held (the group's join and first partials
      // rounds come before it).
      let firstAt = 0;
      let firstSum = 0;
      const watcher = new TopicReader({
        brokers: conn.bootstrapBrokers,
        connection: {},
        topic: outs[0],
        log: silentLogger,
        maxWaitMs: 20,
        onRecord: (v) => {
          const info = JSON.parse(decodeHistogramMessage(v).info ?? "{}") as { sum?: number };
          publishes++;
          if (typeof info.sum === "number") sum = Math.max(sum, info.sum);
          if (!firstAt && sum > 0) {
            firstAt = performance.now();
            firstSum = sum;
          }
        },
      });
      await watcher.seekToBeginning();
      watcher.start();
      const producer = new Producer({ clientId: "bench", ...conn, acks: 1 });
      const tA = performance.now();
      await producer.send({
        messages: [
          {
            topic: cmd,
            value: Buffer.from(JSON.stringify(config(t0, threeHistograms("scale_events", outs)))),
          },
        ],
      });
      await producer.close();
      let error: string | undefined;
      try {
        await until(() => sum >= total, 10, 300_000, `a published sum of ${total}`);
      } catch (e) {
        error = `${(e as Error).message}; last sum ${sum}\n${ps.map((p) => p.log()).join("\n")}`;
      }
      const wall = (performance.now() - tA) / 1000;
      await delay(1200); // two more publishes: nothing may be counted twice
      const finalSum = sum;
      await watcher.close();
      for (const p of ps) {
        await p.stop();
        procs.delete(p);
      }
      const rate = total / wall;
      if (n === 1 && group) one = rate;
      out({
        bench: "scale",
        step: "processes",
        instances: n,
        group,
        wall_s: r3(wall),
        events_per_s: error ? null : Math.round(rate),
        first_counts_published_s: firstAt ? r3((firstAt - tA) / 1000) : null,
        // From the first publish showing counts to the one showing every event.
        events_per_s_after_first_publish:
          error || !firstAt || firstSum >= total
            ? null
            : Math.round((total - firstSum) / ((tA + wall * 1000 - firstAt) / 1000)),
        ratio_to_1_group_instance: one && group && !error ? r3(rate / one) : null,
        published_sum: finalSum,
        exact: finalSum === total,
        publishes,
        error,
      });
    }
  }
} finally {
  for (const p of procs) await p.kill();
  await broker.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

// (4) The gRPC door's --state-dir / --wal cost (its own server process, no broker needed).
if (!values["skip-grpc"]) {
  const r = spawnSync(process.execPath, [resolve(root, "bench/state.bench.ts"), "--fills-only"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const rows = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { case: string; fills_per_s: number });
  const none = rows.find((x) => x.case === "no state")?.fills_per_s ?? 0;
  for (const x of rows)
    out({
      bench: "scale",
      step: "grpc (bench:state)",
      ...x,
      ratio_to_no_state: none ? r3(x.fills_per_s / none) : null,
    });
}
