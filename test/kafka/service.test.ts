// histd as just-bin-it against a real Kafka broker: commands on the config topic, ACK/ERR, counts checked against
// numpy over the events sent, every histogram type, hs00/hs01, ev42/ev44, start/stop by Kafka timestamp,
// interval, reset_counts, stop, the ERROR state, heartbeat, bad messages, SASL and SSL.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeHistogramMessage, decodeX5f2 } from "../../src/formats/flatbuffers/index.ts";
import { silentLogger } from "../../src/kafka/log.ts";
import type { ServiceOptions } from "../../src/kafka/options.ts";
import { Service } from "../../src/kafka/service.ts";
import { type Broker, startBroker, testUsers } from "../support/kafka-broker.ts";
import {
  type Conn,
  createTopics,
  type Events,
  encode,
  makeEvents,
  numpyExpected,
  produce,
  pyDecodeHistograms,
  readAll,
  waitFor,
} from "./jbi-support.ts";

let broker: Broker;
let conn: Conn;
let service: Service;

const cmdTopic = "hist_commands";
const respTopic = "hist_responses";
const hbTopic = "hist_heartbeat";

function options(extra: Partial<ServiceOptions> = {}): ServiceOptions {
  return {
    brokers: [broker.bootstrap],
    configTopic: cmdTopic,
    responseTopic: respTopic,
    hbTopic,
    simulationMode: false,
    logLevel: 3,
    oneShotPlot: false,
    ...extra,
  };
}

before(
  async () => {
    broker = await startBroker({ sasl: true, ssl: true });
    conn = { bootstrapBrokers: [broker.bootstrap] };
    await createTopics(conn, [cmdTopic, respTopic, hbTopic]);
    service = new Service(options(), silentLogger);
    await service.start();
  },
  { timeout: 180_000 },
);

after(async () => {
  await service?.close();
  await broker?.stop();
});

let uid = 0;
async function topicsFor(partitions = 2): Promise<{ data: string; hist: string }> {
  uid++;
  const t = { data: `data_${uid}`, hist: `hist_${uid}` };
  await createTopics(conn, [t.data], partitions);
  await createTopics(conn, [t.hist], 1);
  return t;
}

async function command(cmd: Record<string, unknown>): Promise<void> {
  await produce(conn, cmdTopic, [{ value: JSON.stringify(cmd) }]);
}

async function response(msgId: string): Promise<Record<string, unknown>> {
  return waitFor(`response ${msgId}`, async () => {
    const all = (await readAll(conn, respTopic)).map((b) => b.toString());
    const hit = all.find((s) => (JSON.parse(s) as { msg_id: unknown }).msg_id === msgId);
    return hit === undefined ? undefined : { raw: hit, ...(JSON.parse(hit) as Record<string, unknown>) };
  });
}

async function lastHist(
  topic: string,
  pred: (info: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Buffer> {
  return waitFor(
    `histogram on ${topic}`,
    async () => {
      const all = await readAll(conn, topic);
      const last = all.at(-1);
      if (!last) return undefined;
      const info = JSON.parse(decodeHistogramMessage(last).info ?? "{}") as Record<string, unknown>;
      return pred(info) ? last : undefined;
    },
    timeoutMs,
  );
}

function hist1d(t: { data: string; hist: string }, extra: Record<string, unknown> = {}) {
  return {
    type: "hist1d",
    data_brokers: [broker.bootstrap],
    data_topics: [t.data],
    tof_range: [0, 100000000],
    det_range: [1, 512],
    num_bins: 50,
    topic: t.hist,
    id: "some_id",
    ...extra,
  };
}

async function sendEvents(topic: string, schema: "ev42" | "ev44", batches: Events[]): Promise<void> {
  await produce(
    conn,
    topic,
    batches.map((e, i) => ({
      value: encode(schema, e, i + 1),
      ...(e.timestamp !== undefined ? { timestamp: e.timestamp } : {}),
      partition: e.partition ?? i % 2,
    })),
  );
}

function concat(batches: Events[]): { tof: number[]; det: number[] } {
  return { tof: batches.flatMap((b) => [...b.tof]), det: batches.flatMap((b) => [...b.det]) };
}

describe("histd as just-bin-it over a real broker", { timeout: 200_000 }, () => {
  it("basic operation: hist1d over a 2-partition ev44 topic, hs01, counts equal numpy's, stop gives FINISHED", async () => {
    const t = await topicsFor(2);
    await command({
      cmd: "config",
      msg_id: "cfg-basic",
      input_schema: "ev44",
      output_schema: "hs01",
      histograms: [hist1d(t)],
    });
    const ack = await response("cfg-basic");
    assert.equal(ack.raw, '{"msg_id": "cfg-basic", "response": "ACK"}');
    await lastHist(t.hist, (i) => i.state === "INITIALISED");
    const batches = Array.from({ length: 10 }, (_, i) => makeEvents(500 + i * 100));
    await sendEvents(t.data, "ev44", batches);
    const total = batches.reduce((s, b) => s + b.tof.length, 0);
    const { tof, det } = concat(batches);
    const expected = numpyExpected(hist1d(t), tof, det);
    const expectedSum = expected.reduce((a, b) => a + b, 0);
    assert.ok(expectedSum > total * 0.9, "most events inside the det range");
    await lastHist(t.hist, (i) => i.state === "COUNTING" && i.sum === expectedSum);
    await command({ cmd: "stop" });
    const fin = await lastHist(t.hist, (i) => i.state === "FINISHED");
    const [py] = pyDecodeHistograms([fin]);
    assert.equal(py.source, "just-bin-it");
    assert.deepEqual(py.current_shape, [50]);
    assert.equal(py.data_dtype, "float64");
    assert.deepEqual(py.data, expected);
    assert.equal(py.info.sum, expectedSum);
    assert.equal(py.info.id, "some_id");
    assert.deepEqual(Object.keys(py.info), ["id", "state", "last_pulse_time", "sum", "diff", "rate"]);
    assert.equal(py.dims[0].edges.length, 51);
    assert.equal(py.dims[0].edges[1], 2e6);
    // Exactly one FINISHED message.
    const all = pyDecodeHistograms(await readAll(conn, t.hist));
    assert.equal(all.filter((h) => h.info.state === "FINISHED").length, 1);
    assert.equal(all[0].info.state, "INITIALISED");
  });

  it("every histogram type on one ev42 topic (read once), hs00, equal to numpy bin for bin", async () => {
    const t = await topicsFor(2);
    const hist2 = `${t.hist}_2d`;
    const histMap = `${t.hist}_map`;
    const histRoi = `${t.hist}_roi`;
    const hist1 = `${t.hist}_1d`;
    await createTopics(conn, [hist2, histMap, histRoi, hist1]);
    const base = { data_brokers: [broker.bootstrap], data_topics: [t.data] };
    const specs = [
      { ...base, type: "hist1d", tof_range: [0, 100000000], num_bins: 37, topic: hist1, id: "h1" },
      {
        ...base,
        type: "hist2d",
        tof_range: [0, 100000000],
        det_range: [100, 400],
        num_bins: [20, 30],
        topic: hist2,
        id: "h2",
      },
      { ...base, type: "dethist", det_range: [100, 101], width: 16, height: 20, topic: histMap, id: "map" },
      { ...base, type: "roihist", width: 5, left_edges: [200, 216, 221], topic: histRoi, id: "roi" },
    ];
    await command({ cmd: "config", msg_id: "cfg-types", histograms: specs });
    await response("cfg-types");
    for (const s of specs) await lastHist(s.topic, (i) => i.state === "INITIALISED");
    const batches = Array.from({ length: 6 }, () => makeEvents(2000, "det"));
    // Values on the exact range ends.
    batches[0].tof[0] = 100000000;
    batches[0].det[0] = 400;
    batches[0].tof[1] = 0;
    batches[0].det[1] = 100;
    await sendEvents(t.data, "ev42", batches);
    const { tof, det } = concat(batches);
    for (const s of specs) {
      const expected = numpyExpected(s.type === "dethist" ? { ...s, det_range: [100, 420] } : s, tof, det);
      const sum = expected.reduce((a, b) => a + b, 0);
      const last = await lastHist(s.topic, (i) => i.sum === sum);
      const [py] = pyDecodeHistograms([last]);
      assert.deepEqual(py.data, expected, `${s.type} counts`);
      assert.equal(py.data_dtype, s.type === "hist1d" ? "uint64" : "float64", `${s.type} dtype`);
      if (s.type === "roihist") {
        assert.deepEqual(py.current_shape, [5, 3]);
        assert.deepEqual(py.dims[0].edges, [0, 1, 2, 3, 4]);
        assert.equal(py.dims[0].edges_dtype, "uint64");
      }
      if (s.type === "dethist") assert.deepEqual(py.current_shape, [16, 20]);
      if (s.type === "hist2d") assert.deepEqual(py.current_shape, [20, 30]);
    }
    const stats = service.readerStats();
    assert.equal(stats.length, 1, "one reader for the four histograms");
    assert.equal(stats[0].messages, 6);
    // reset_counts: the next publish shows zeros, the state stays COUNTING.
    await command({ cmd: "reset_counts", msg_id: "reset-1" });
    await response("reset-1");
    await lastHist(hist2, (i) => i.sum === 0 && i.state === "COUNTING");
  });

  it("start/stop by Kafka timestamp over historic data (both ends inclusive)", async () => {
    const t = await topicsFor(2);
    const t0 = Date.now() - 60_000;
    const batches = Array.from({ length: 10 }, (_, i) => ({
      ...makeEvents(100 + i),
      timestamp: t0 + i * 1000,
      partition: 0,
    }));
    await sendEvents(t.data, "ev44", batches);
    // Partition 1 needs data too: an empty partition makes just-bin-it's seek fail.
    await sendEvents(t.data, "ev44", [{ ...makeEvents(50), timestamp: t0 - 10_000, partition: 1 }]);
    await command({
      cmd: "config",
      msg_id: "cfg-startstop",
      input_schema: "ev44",
      start: t0 + 3000,
      stop: t0 + 6000,
      histograms: [hist1d(t, { det_range: undefined, tof_range: [0, 1e9], num_bins: 10 })],
    });
    await response("cfg-startstop");
    const expectedSum = batches.slice(3, 7).reduce((s, b) => s + b.tof.length, 0);
    const fin = await lastHist(t.hist, (i) => i.state === "FINISHED");
    const [py] = pyDecodeHistograms([fin]);
    assert.equal(py.info.sum, expectedSum);
    assert.equal(py.info.start, t0 + 3000);
    assert.equal(py.info.stop, t0 + 6000);
  });

  it("a start before the first retained message is the ERROR state with just-bin-it's message", async () => {
    const t = await topicsFor(1);
    await sendEvents(t.data, "ev44", [{ ...makeEvents(10), partition: 0 }]);
    await command({
      cmd: "config",
      msg_id: "cfg-old",
      input_schema: "ev44",
      start: 1000,
      histograms: [hist1d(t)],
    });
    assert.equal((await response("cfg-old")).response, "ACK");
    const err = await lastHist(t.hist, (i) => i.state === "ERROR");
    const [py] = pyDecodeHistograms([err]);
    assert.equal(
      py.info.error_message,
      "Cannot find start time in the data, either the supplied time is too old or there is no data available",
    );
  });

  it("interval: counts for the interval, then FINISHED; malformed messages are skipped", async () => {
    const t = await topicsFor(1);
    await sendEvents(t.data, "ev44", [{ ...makeEvents(10), partition: 0, timestamp: Date.now() - 5000 }]);
    await command({
      cmd: "config",
      msg_id: "cfg-int",
      input_schema: "ev44",
      interval: 2,
      histograms: [hist1d(t)],
    });
    await response("cfg-int");
    const b = [makeEvents(300), makeEvents(400)].map((e) => ({ ...e, partition: 0 }));
    await produce(conn, t.data, [{ value: "not a flatbuffer", partition: 0 }]);
    await sendEvents(t.data, "ev44", b);
    const { tof, det } = concat(b);
    const sum = numpyExpected(hist1d(t), tof, det).reduce((a, x) => a + x, 0);
    const fin = await lastHist(t.hist, (i) => i.state === "FINISHED", 20_000);
    const [py] = pyDecodeHistograms([fin]);
    assert.equal(py.info.sum, sum);
    assert.equal((py.info.stop as number) - (py.info.start as number), 2000);
    assert.ok(service.counters.malformedEvents >= 1);
  });

  it("ERR responses: unknown command, missing cmd, invalid config, missing topic", async () => {
    await command({ cmd: "not a valid command", msg_id: "bad-1" });
    assert.equal(
      (await response("bad-1")).raw,
      `{"msg_id": "bad-1", "response": "ERR", "message": "Unknown command type 'not a valid command'"}`,
    );
    await command({ msg_id: "bad-2" });
    assert.equal((await response("bad-2")).message, "'cmd'");
    await command({ cmd: "config", msg_id: "bad-3", histograms: [{ type: "hist1d", num_bins: 2.0 }] });
    assert.equal((await response("bad-3")).message, "Could not parse 1d histogram config");
    await command({ cmd: "config", msg_id: "bad-4", interval: 5, start: 10 });
    assert.equal(
      (await response("bad-4")).message,
      "Cannot define 'interval' in combination with start and/or stop",
    );
    await command({
      cmd: "config",
      msg_id: "bad-5",
      histograms: [hist1d({ data: "no_such_topic", hist: "h" })],
    });
    assert.equal((await response("bad-5")).message, "Invalid Kafka settings");
    await produce(conn, cmdTopic, [{ value: "{not json" }]);
    await command({ cmd: "stop", msg_id: "stop-ok" });
    assert.equal((await response("stop-ok")).response, "ACK");
  });

  it("heartbeat: x5f2 decoded by ess-streaming-data-types", async () => {
    const hb = await waitFor("heartbeat", async () => (await readAll(conn, hbTopic)).at(-1));
    assert.equal(decodeX5f2(hb).softwareName, "just-bin-it");
    const f = resolve(tmpdir(), `hb-${process.pid}.bin`);
    writeFileSync(f, hb);
    const { runPython } = await import("../support/python.ts");
    const out = runPython(
      `import sys; from streaming_data_types import deserialise_x5f2 as d; m = d(open(sys.argv[1],'rb').read()); print(m.software_name, m.process_id, m.update_interval, m.status_json)`,
      "",
      [f],
    );
    assert.equal(out.trim(), `just-bin-it ${process.pid} 1000 {}`);
  });

  for (const mode of ["SASL_PLAINTEXT", "SASL_SSL"] as const) {
    it(`${mode}: every client authenticates (SCRAM-SHA-512)`, async () => {
      const bootstrap = mode === "SASL_SSL" ? broker.saslSslBootstrap : broker.saslBootstrap;
      assert.ok(bootstrap && broker.caPem);
      const ca = resolve(tmpdir(), `ca-${process.pid}.pem`);
      writeFileSync(ca, broker.caPem);
      const sec = {
        securityProtocol: mode,
        saslMechanism: "SCRAM-SHA-512",
        saslUsername: testUsers.scram.username,
        saslPassword: testUsers.scram.password,
        sslCafile: ca,
      };
      const cmd2 = `cmd_${mode}`;
      await createTopics(conn, [cmd2]);
      const t = await topicsFor(1);
      const s = new Service(
        options({ ...sec, brokers: [bootstrap], configTopic: cmd2, hbTopic: undefined }),
        silentLogger,
      );
      await s.start();
      try {
        await produce(conn, cmd2, [
          {
            value: JSON.stringify({
              cmd: "config",
              msg_id: `cfg-${mode}`,
              input_schema: "ev44",
              histograms: [hist1d(t, { data_brokers: [bootstrap] })],
            }),
          },
        ]);
        await response(`cfg-${mode}`);
        await lastHist(t.hist, (i) => i.state === "INITIALISED");
        const b = [{ ...makeEvents(777), partition: 0 }];
        await sendEvents(t.data, "ev44", b);
        const { tof, det } = concat(b);
        const sum = numpyExpected(hist1d(t), tof, det).reduce((a, x) => a + x, 0);
        await lastHist(t.hist, (i) => i.sum === sum);
      } finally {
        await s.close();
      }
    });
  }
});
