// Scale-out with real processes and a real broker: three `just-bin-it --group` instances share a 6-partition ev44
// topic through a Kafka consumer group and merge their partial histograms through the partials topic. Instances
// are killed with SIGKILL mid-stream (first the one publishing, then another), their partitions move to the
// survivors, and the published histogram must equal numpy's histogram of every event sent, bin for bin, and exactly
// one instance publishes at a time.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { decodeHistogramMessage } from "../../src/formats/flatbuffers/index.ts";
import { type Broker, startBroker } from "../support/kafka-broker.ts";
import { type HistdProcess, startHistd } from "./histd-process.ts";
import {
  type Conn,
  createTopics,
  type Events,
  encode,
  makeEvents,
  numpyExpected,
  produce,
  readAll,
  waitFor,
} from "./jbi-support.ts";

let broker: Broker;
let conn: Conn;
const running = new Set<HistdProcess>();

before(
  async () => {
    broker = await startBroker();
    conn = { bootstrapBrokers: [broker.bootstrap] };
  },
  { timeout: 180_000 },
);

const everyone: HistdProcess[] = [];

after(async () => {
  if (process.env.HISTD_TEST_LOGS) for (const p of everyone) console.log(p.log());
  for (const p of running) await p.kill();
  await broker?.stop();
});

const PARTITIONS = 6;
let t = { cmd: "scale_cmd", data: "scale_data", hist: "scale_hist", map: "scale_map" };
let group = "g";

async function instance(): Promise<HistdProcess> {
  const p = await startHistd([
    "--http-port",
    "0",
    "--http-host",
    "127.0.0.1",
    "-b",
    broker.bootstrap,
    "-t",
    t.cmd,
    "-rt",
    `${t.cmd}_resp`,
    "--group",
    group,
    "--checkpoint-interval",
    "0.3",
  ]);
  running.add(p);
  everyone.push(p);
  return p;
}

function specs() {
  const base = { data_brokers: [broker.bootstrap], data_topics: [t.data] };
  return [
    { ...base, type: "hist1d", tof_range: [0, 100000000], num_bins: 50, topic: t.hist, id: "tof" },
    { ...base, type: "dethist", det_range: [1, 400], width: 20, height: 20, topic: t.map, id: "map" },
  ];
}

interface Published {
  info: Record<string, unknown>;
  data: number[];
}

async function published(topic: string): Promise<Published[]> {
  return (await readAll(conn, topic)).map((m) => {
    const h = decodeHistogramMessage(m);
    return {
      info: JSON.parse(h.info ?? "{}") as Record<string, unknown>,
      data: Array.from(h.data as ArrayLike<number | bigint>, Number),
    };
  });
}

/** The instance whose log says it publishes (leads the data topic's consumer group) as of its last assignment. */
function publisher(): HistdProcess | undefined {
  for (const p of running) {
    const lines = p
      .log()
      .split("\n")
      .filter((l) => l.includes("counting partitions"));
    if (lines.at(-1)?.includes("(publishing)")) return p;
  }
  return undefined;
}

/** A gauge of an instance's /metrics, summed over its label sets. */
async function gauge(p: HistdProcess, name: string): Promise<number> {
  const url = /HTTP API at (\S+)/.exec(p.log())?.[1];
  assert.ok(url, "the instance's HTTP address");
  const text = await (await fetch(new URL("/metrics", url))).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(" ").at(-1));
  return sum;
}

/** An instance's Kafka-door counters and gauges from /metrics, for a failure message. */
async function counters(p: HistdProcess): Promise<string> {
  const url = /HTTP API at (\S+)/.exec(p.log())?.[1];
  if (!url) return "(no HTTP address)";
  const text = await (await fetch(new URL("/metrics", url))).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("histd_kafka_"))
    .join("\n");
}

/** A function that produces `n` messages of `events` events round-robin over the partitions, remembering them. */
function bursts(sent: Events[], n: number, events: number): () => Promise<void> {
  return async () => {
    const b = Array.from({ length: n }, () => makeEvents(events));
    await produce(
      conn,
      t.data,
      b.map((e, i) => ({
        value: encode("ev44", e, sent.length + i),
        partition: (sent.length + i) % PARTITIONS,
      })),
    );
    sent.push(...b);
  };
}

async function configure(): Promise<void> {
  await produce(conn, t.cmd, [
    {
      value: JSON.stringify({
        cmd: "config",
        input_schema: "ev44",
        output_schema: "hs01",
        histograms: specs(),
      }),
    },
  ]);
}

/** Waits until the last published hist1d's sum is `total`; more is an error (counted twice). */
async function publishedSum(total: number): Promise<void> {
  let seen: unknown;
  await waitFor(
    `sum ${total}`,
    async () => {
      const last = (await published(t.hist)).at(-1);
      seen = last?.info;
      if (last && (last.info.sum as number) > total)
        throw new Error(`sum ${last.info.sum} > ${total}: counted twice`);
      return last?.info.sum === total ? true : undefined;
    },
    90_000,
  ).catch(async (e: Error) => {
    const state = await Promise.all([...running].map((p) => counters(p).catch((x: Error) => x.message)));
    throw new Error(
      `${e.message}; last: ${JSON.stringify(seen)}\n${[...running].map((p, i) => `${state[i]}\n${p.log()}`).join("\n")}`,
    );
  });
}

/** Waits until the published hist1d is numpy's histogram of every event sent, bin for bin. */
async function allCounted(sent: Events[]): Promise<void> {
  const want = numpyExpected(
    specs()[0],
    sent.flatMap((e) => [...e.tof]),
    sent.flatMap((e) => [...e.det]),
  );
  await publishedSum(want.reduce((x, y) => x + y, 0));
  assert.deepEqual((await published(t.hist)).at(-1)?.data, want);
}

async function kill(p: HistdProcess): Promise<void> {
  await p.kill();
  running.delete(p);
}

describe("scale-out: three instances of one --group (real broker, SIGKILL)", { timeout: 600_000 }, () => {
  it("partitions move when instances die; the merged histograms count every event once", async () => {
    await createTopics(conn, [t.cmd, `${t.cmd}_resp`, t.hist, t.map]);
    await createTopics(conn, [t.data], PARTITIONS);
    await Promise.all([instance(), instance(), instance()]);
    await produce(conn, t.cmd, [
      {
        value: JSON.stringify({
          cmd: "config",
          msg_id: "scale-1",
          input_schema: "ev44",
          output_schema: "hs01",
          histograms: specs(),
        }),
      },
    ]);
    // One answer for the group, not one per instance.
    const acks = async () =>
      (await readAll(conn, `${t.cmd}_resp`)).map(
        (b) => JSON.parse(b.toString()) as { msg_id: string; response: string },
      );
    await waitFor("the ACK", async () => ((await acks()).length > 0 ? true : undefined));
    await delay(1500);
    assert.deepEqual(await acks(), [{ msg_id: "scale-1", response: "ACK" }]);
    await waitFor("a publishing instance", async () => publisher() ?? undefined, 60_000);
    await waitFor("the first publish", async () => ((await published(t.hist)).length > 0 ? true : undefined));
    const sent: Events[] = [];
    const burst = bursts(sent, 18, 1500);
    await burst();
    await delay(500);
    await burst();
    // /metrics: the six partitions are shared out, one instance publishes.
    const shares = await Promise.all([...running].map((p) => gauge(p, "histd_kafka_group_partitions")));
    assert.equal(
      shares.reduce((a, b) => a + b, 0),
      PARTITIONS,
    );
    const publishing = await Promise.all([...running].map((p) => gauge(p, "histd_kafka_group_publishing")));
    assert.deepEqual(publishing.sort(), [0, 0, 1]);
    // The publishing instance dies: its partitions and the publishing move to the others.
    const first = publisher();
    assert.ok(first);
    await kill(first);
    await burst();
    await waitFor("a new publisher", async () => publisher() ?? undefined, 60_000);
    await burst();
    // Another one dies, mid-burst; the last instance counts all six partitions.
    const [second] = [...running].filter((p) => p !== publisher());
    const during = burst();
    await delay(50);
    await kill(second);
    await during;
    await burst();
    const tof = sent.flatMap((b) => [...b.tof]);
    const det = sent.flatMap((b) => [...b.det]);
    const [s1, s2] = specs();
    const want = { tof: numpyExpected(s1, tof, det), map: numpyExpected(s2, tof, det) };
    const total = want.tof.reduce((a, b) => a + b, 0);
    await publishedSum(total);
    // A stop: FINISHED, exact, once.
    await produce(conn, t.cmd, [{ value: JSON.stringify({ cmd: "stop" }) }]);
    for (const [topic, expected] of [
      [t.hist, want.tof],
      [t.map, want.map],
    ] as const) {
      const fin = await waitFor(`FINISHED on ${topic}`, async () =>
        (await published(topic)).find((h) => h.info.state === "FINISHED"),
      );
      assert.deepEqual(fin.data, expected);
      await delay(1000);
      assert.equal((await published(topic)).filter((h) => h.info.state === "FINISHED").length, 1);
    }
    // Published sums never went down while counting (one publisher at a time, each showing a consistent merge).
    const sums = (await published(t.hist)).map((h) => h.info.sum as number);
    for (let i = 1; i < sums.length; i++)
      assert.ok(sums[i] >= sums[i - 1], `sum went down: ${sums[i - 1]} -> ${sums[i]}`);
  });

  it("the whole group killed and restarted resumes the running config and its counts", async () => {
    t = { cmd: "scale2_cmd", data: "scale2_data", hist: "scale2_hist", map: "scale2_map" };
    group = "g2";
    await createTopics(conn, [t.cmd, `${t.cmd}_resp`, t.hist, t.map]);
    await createTopics(conn, [t.data], PARTITIONS);
    await Promise.all([instance(), instance()]);
    await configure();
    await waitFor("a publishing instance", async () => publisher() ?? undefined, 60_000);
    const sent: Events[] = [];
    const burst = bursts(sent, 12, 1000);
    await burst();
    await delay(800);
    await burst();
    for (const p of [...running]) await kill(p);
    await burst(); // while the whole group is down
    await Promise.all([instance(), instance()]);
    await burst();
    await allCounted(sent);
    assert.ok([...running].some((p) => /Group: resumed the running config/.test(p.log())));
  });

  it("a broker restart under a running group: every event once", async () => {
    t = { cmd: "scale3_cmd", data: "scale3_data", hist: "scale3_hist", map: "scale3_map" };
    group = "g3";
    await createTopics(conn, [t.cmd, `${t.cmd}_resp`, t.hist, t.map]);
    await createTopics(conn, [t.data], PARTITIONS);
    await Promise.all([instance(), instance()]);
    await configure();
    // The first restart comes while the instances are joining and taking over their partitions; the second one
    // while they count.
    await delay(300);
    await broker.restart();
    await waitFor("a publishing instance", async () => publisher() ?? undefined, 60_000);
    const sent: Events[] = [];
    const burst = bursts(sent, 12, 1000);
    await burst();
    await delay(500);
    await broker.restart();
    await burst();
    await delay(500);
    await burst();
    // The test's own producer has not written a message twice around the restart (it is idempotent).
    assert.equal((await readAll(conn, t.data)).length, sent.length, "messages on the data topic");
    await allCounted(sent);
  });

  it("a long broker outage: the members rejoin, and a later death still moves partitions", async () => {
    t = { cmd: "scale5_cmd", data: "scale5_data", hist: "scale5_hist", map: "scale5_map" };
    group = "g5";
    for (const p of [...running]) await kill(p);
    await createTopics(conn, [t.cmd, `${t.cmd}_resp`, t.hist, t.map]);
    await createTopics(conn, [t.data], PARTITIONS);
    const [a, b] = await Promise.all([instance(), instance()]);
    await configure();
    await waitFor("a publishing instance", async () => publisher() ?? undefined, 60_000);
    await waitFor("both counting", async () =>
      [a, b].every((p) => p.log().includes("counting partitions")) ? true : undefined,
    );
    const sent: Events[] = [];
    const burst = bursts(sent, 12, 1000);
    await burst();
    // Down for longer than the session timeout and the members' own rejoin attempts.
    await broker.restart(20_000);
    await burst();
    // Then the publisher dies: the other instance must be in the group again to be given its partitions.
    const first = publisher();
    assert.ok(first);
    await kill(first);
    await burst();
    await allCounted(sent);
  });

  it("start and stop times over historic data: FINISHED once every partition is past the stop, exact", async () => {
    t = { cmd: "scale4_cmd", data: "scale4_data", hist: "scale4_hist", map: "scale4_map" };
    group = "g4";
    await createTopics(conn, [t.cmd, `${t.cmd}_resp`, t.hist, t.map]);
    await createTopics(conn, [t.data], PARTITIONS);
    const t0 = Date.now() - 60_000;
    const inside: Events[] = [];
    const values: { value: Uint8Array; timestamp: number; partition: number }[] = [];
    let id = 0;
    for (let p = 0; p < PARTITIONS; p++)
      for (const [dt, keep] of [
        [5_000, false],
        [12_000, true],
        [15_000, true],
        [25_000, false],
      ] as const) {
        const e = makeEvents(800);
        if (keep) inside.push(e);
        values.push({ value: encode("ev44", e, id++), timestamp: t0 + dt, partition: p });
      }
    await produce(conn, t.data, values);
    await Promise.all([instance(), instance()]);
    await produce(conn, t.cmd, [
      {
        value: JSON.stringify({
          cmd: "config",
          start: t0 + 10_000,
          stop: t0 + 20_000,
          input_schema: "ev44",
          output_schema: "hs01",
          histograms: specs(),
        }),
      },
    ]);
    const want = numpyExpected(
      specs()[0],
      inside.flatMap((b) => [...b.tof]),
      inside.flatMap((b) => [...b.det]),
    );
    const fin = await waitFor(
      "FINISHED",
      async () => (await published(t.hist)).find((h) => h.info.state === "FINISHED"),
      60_000,
    );
    assert.deepEqual(fin.data, want);
    await delay(1500);
    assert.equal((await published(t.hist)).filter((h) => h.info.state === "FINISHED").length, 1);
  });
});
