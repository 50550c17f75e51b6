// The rest of the just-bin-it door over a real broker: simulation mode, `histd generate` / `view-output` / `viewer`,
// Graphite statistics, non-numeric start/stop, a data topic that appears after a refused config, and a broker that
// goes away and comes back mid-run (counts stay exact). One broker for the file; the restart runs last.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { inflateSync } from "node:zlib";
import { decodeEvents, decodeHistogramMessage } from "../../src/formats/flatbuffers/index.ts";
import { parseCommandJson } from "../../src/kafka/config-commands.ts";
import { createHistogram, type HistogramView } from "../../src/kafka/histograms.ts";
import { silentLogger } from "../../src/kafka/log.ts";
import type { ServiceOptions } from "../../src/kafka/options.ts";
import { encodeHistogramMessage } from "../../src/kafka/publisher.ts";
import { Service } from "../../src/kafka/service.ts";
import { type Broker, startBroker } from "../support/kafka-broker.ts";
import { runPythonJson } from "../support/python.ts";
import {
  type Conn,
  createTopics,
  encode,
  makeEvents,
  produce,
  pyDecodeHistograms,
  readAll,
  waitFor,
} from "./jbi-support.ts";

const root = resolve(import.meta.dirname, "../..");
let broker: Broker;
let conn: Conn;
const services: Service[] = [];
const tmp = mkdtempSync(resolve(tmpdir(), "histd-tools-"));

before(
  async () => {
    broker = await startBroker();
    conn = { bootstrapBrokers: [broker.bootstrap] };
    await createTopics(conn, ["cmd"]);
  },
  { timeout: 120_000 },
);

after(async () => {
  for (const s of services) await s.close();
  await broker?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function newService(extra: Partial<ServiceOptions> = {}): Promise<Service> {
  const s = new Service(
    {
      brokers: [broker.bootstrap],
      configTopic: "cmd",
      simulationMode: false,
      logLevel: 5,
      oneShotPlot: false,
      ...extra,
    },
    silentLogger,
  );
  services.push(s);
  await s.start();
  return s;
}

let uid = 0;
async function topics(): Promise<{ data: string; hist: string }> {
  uid++;
  const t = { data: `tools_data_${uid}`, hist: `tools_hist_${uid}` };
  await createTopics(conn, [t.data, t.hist]);
  return t;
}

function info(b: Buffer): Record<string, unknown> {
  return JSON.parse(decodeHistogramMessage(b).info ?? "{}") as Record<string, unknown>;
}

async function lastHist(topic: string, pred: (i: Record<string, unknown>) => boolean, ms = 30_000) {
  return waitFor(
    `histogram on ${topic}`,
    async () => {
      const last = (await readAll(conn, topic)).at(-1);
      return last && pred(info(last)) ? last : undefined;
    },
    ms,
  );
}

function config(histograms: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return parseCommandJson(
    Buffer.from(
      JSON.stringify({ cmd: "config", input_schema: "ev44", output_schema: "hs01", histograms, ...extra }),
    ),
  );
}

function runCli(args: string[]): ChildProcess & { out: () => string } {
  const child = spawn(process.execPath, [resolve(root, "src/cli/main.ts"), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", () => {});
  return Object.assign(child, { out: () => out });
}

async function exitCode(c: ChildProcess, ms = 60_000): Promise<number | null> {
  if (c.exitCode !== null) return c.exitCode;
  const t = setTimeout(() => c.kill("SIGKILL"), ms);
  const code = await new Promise<number | null>((ok) => c.once("exit", (code) => ok(code)));
  clearTimeout(t);
  return code;
}

/** A published-looking hs01 histogram message. */
function hsMessage(view: HistogramView, infoText: string): Uint8Array {
  return encodeHistogramMessage("hs01", view, infoText, BigInt(Date.now()) * 1_000_000n);
}

describe("just-bin-it tools and side channels", { timeout: 300_000 }, () => {
  it("simulation mode fills every histogram with fabricated events matching its config (no Kafka checks)", async () => {
    const s = await newService({ simulationMode: true, configTopic: "cmd" });
    const t = await topics();
    const out2 = `${t.hist}_map`;
    await createTopics(conn, [out2]);
    const base = { data_brokers: [broker.bootstrap], data_topics: ["no_such_topic"], source: "" };
    await s.handle(
      config([
        {
          ...base,
          type: "hist1d",
          tof_range: [0, 100_000_000],
          det_range: [1, 512],
          num_bins: 50,
          topic: t.hist,
        },
        { ...base, type: "dethist", det_range: [0, 50], width: 10, height: 5, topic: out2 },
      ]),
    );
    const h1 = pyDecodeHistograms([await lastHist(t.hist, (i) => (i.sum as number) >= 5000)])[0];
    assert.equal(h1.info.state, "COUNTING");
    assert.deepEqual(h1.current_shape, [50]);
    const sum = h1.data.reduce((a, b) => a + b, 0);
    // Gaussian ToF: centre (max-min)//2 = 5e7, sigma 1e7; 1000 events per fabricated message.
    const middle = h1.data.slice(15, 35).reduce((a, b) => a + b, 0);
    assert.ok(middle / sum > 0.9, `ToF centred on the range: ${middle}/${sum}`);
    assert.ok(sum % 1 === 0 && sum > 0);
    const map = pyDecodeHistograms([await lastHist(out2, (i) => (i.sum as number) > 0)])[0];
    assert.deepEqual(map.current_shape, [10, 5]);
    // height rows x 1000 events each, ids row*width + N(width/2, width/10): every row of the image has counts.
    for (let y = 0; y < 5; y++) {
      let row = 0;
      for (let x = 0; x < 10; x++) row += map.data[x * 5 + y];
      assert.ok(row > 0, `row ${y} filled`);
    }
    await s.handle(parseCommandJson(Buffer.from('{"cmd": "stop"}')));
    await lastHist(t.hist, (i) => i.state === "FINISHED");
    await s.close();
  });

  it("histd generate: ev42 and ev44 messages decodable by streaming_data_types, with the requested counts", async () => {
    await createTopics(conn, ["gen42", "gen44", "gendh"]);
    const b = broker.bootstrap;
    const runs = [
      { topic: "gen42", args: ["-n", "3", "-ne", "50"], schema: "ev42", events: 50 },
      { topic: "gen44", args: ["-n", "2", "-ne", "40", "--schema", "ev44"], schema: "ev44", events: 40 },
      { topic: "gendh", args: ["-n", "2", "-ne", "7", "-dh"], schema: "ev42", events: 700 },
    ];
    for (const r of runs) {
      const c = runCli(["generate", "-b", b, "-t", r.topic, "--interval-ms", "0", ...r.args]);
      assert.equal(await exitCode(c), 0, c.out());
      const n = Number(r.args[1]);
      assert.match(c.out(), new RegExp(`Num messages = ${n}, total events = ${n * r.events}`));
      const msgs = await readAll(conn, r.topic);
      assert.equal(msgs.length, n);
      const got = runPythonJson<{ source: string; id: number; tof: number; det: number; dets: number[] }[]>(
        `
import sys, json, base64
from streaming_data_types import deserialise_ev42, deserialise_ev44
out = []
for m in json.load(sys.stdin):
    raw = base64.b64decode(m)
    if raw[4:8] == b"ev42":
        d = deserialise_ev42(raw)
        out.append({"source": d.source_name, "id": int(d.message_id), "tof": len(d.time_of_flight), "det": len(d.detector_id), "dets": [int(x) for x in d.detector_id[:2000]]})
    else:
        d = deserialise_ev44(raw)
        out.append({"source": d.source_name, "id": int(d.message_id), "tof": len(d.time_of_flight), "det": len(d.pixel_id), "dets": [int(x) for x in d.pixel_id[:2000]]})
print(json.dumps(out))
`,
        JSON.stringify(msgs.map((m) => m.toString("base64"))),
      );
      assert.deepEqual(
        got.map((g) => g.id),
        Array.from({ length: n }, (_, i) => i + 1),
      );
      for (const g of got) {
        assert.equal(g.source, "just-bin-it");
        assert.equal(g.det, r.events);
        assert.equal(g.tof, r.topic === "gendh" ? 0 : r.events);
        // -dh: 100 rows of ids row*100 + N(50, 10).
        if (r.topic === "gendh") assert.ok(g.dets.every((d, i) => Math.floor(d / 100) === Math.floor(i / 7)));
      }
      if (r.topic === "gendh") {
        // Detector-only ev42 (no ToFs), as just-bin-it's --det-hist writes it: a dethist counts every id.
        const map = createHistogram({
          type: "dethist",
          tofRange: [0, 0],
          detRange: [0, 1],
          numBins: 1,
          width: 100,
          height: 100,
          leftEdges: [],
          topic: "o",
          dataTopics: [r.topic],
          dataBrokers: [b],
          source: "",
          id: "",
        });
        for (const m of msgs) {
          const ev = decodeEvents(m);
          assert.equal(ev.schema, "ev42");
          if (ev.schema === "ev42") map.add(ev.timeOfFlight, ev.detectorId);
        }
        assert.equal(map.sum(), n * r.events);
      }
    }
  });

  it("histd view-output prints the last existing histogram message and then new ones", async () => {
    await createTopics(conn, ["vo"]);
    const view: HistogramView = {
      shape: [4],
      edges: [Float64Array.of(0, 1, 2, 3, 4)],
      data: Float64Array.of(1, 2, 3, 4),
      intData: false,
    };
    await produce(conn, "vo", [{ value: hsMessage(view, '{"id": "old"}') }]);
    const c = runCli(["view-output", "-b", broker.bootstrap, "-t", "vo"]);
    await waitFor("the existing message", async () =>
      c.out().includes("Total events: 10") ? true : undefined,
    );
    assert.match(c.out(), /schema hs01/);
    assert.match(c.out(), /shape \[4\], info \{"id": "old"\}/);
    await produce(conn, "vo", [
      { value: hsMessage({ ...view, data: Float64Array.of(5, 5, 5, 5) }, '{"id": "new"}') },
    ]);
    await waitFor("the new message", async () => (c.out().includes("Total events: 20") ? true : undefined));
    c.kill("SIGTERM");
    assert.equal(await exitCode(c), 0);
  });

  it("histd viewer writes a valid PNG whose pixels are drawn where the counts are", async () => {
    await createTopics(conn, ["vw"]);
    const data = new Float64Array(50);
    for (let b = 10; b < 20; b++) data[b] = 100;
    const view: HistogramView = {
      shape: [50],
      edges: [Float64Array.from({ length: 51 }, (_, i) => i)],
      data,
      intData: false,
    };
    await produce(conn, "vw", [{ value: hsMessage(view, '{"id": "v"}') }]);
    const png = resolve(tmp, "h.png");
    const c = runCli(["viewer", "-b", broker.bootstrap, "-t", "vw", "--latest", "-p", png]);
    assert.equal(await exitCode(c), 0, c.out());
    const f = readFileSync(png);
    assert.deepEqual([...f.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(f.toString("latin1", 12, 16), "IHDR");
    const w = f.readUInt32BE(16);
    const h = f.readUInt32BE(20);
    assert.deepEqual([w, h, f[24], f[25]], [640, 480, 8, 2]);
    // Collect the IDAT chunks, inflate, and read the bottom row (filter 0 rows of RGB).
    const idat: Buffer[] = [];
    for (let p = 8; p < f.length; ) {
      const len = f.readUInt32BE(p);
      if (f.toString("latin1", p + 4, p + 8) === "IDAT") idat.push(f.subarray(p + 8, p + 8 + len));
      p += 12 + len;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const stride = w * 3 + 1;
    assert.equal(raw.length, stride * h);
    const pixel = (x: number, y: number) => [...raw.subarray(y * stride + 1 + x * 3, y * stride + 4 + x * 3)];
    const white = [255, 255, 255];
    for (let x = 0; x < w; x++) {
      const bin = Math.floor((x * 50) / w);
      if (bin >= 10 && bin < 20) {
        assert.notDeepEqual(pixel(x, h - 1), white, `bar at x=${x}`);
        assert.notDeepEqual(pixel(x, 1), white, `full-height bar at x=${x}`);
      } else assert.deepEqual(pixel(x, h - 1), white, `no bar at x=${x}`);
    }
    assert.match(c.out(), /wrote /);
  });

  it("Graphite: sum and diff per histogram in the plaintext protocol, timestamped by last_pulse_time", async () => {
    const lines: string[] = [];
    const server: Server = createServer((sock) => {
      let buf = "";
      sock.on("data", (d) => {
        buf += d.toString();
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        lines.push(...parts);
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    const cfgFile = resolve(tmp, "graphite.json");
    writeFileSync(
      cfgFile,
      JSON.stringify({ address: "127.0.0.1", port, prefix: "just-bin-it", metric: "histogram-" }),
    );
    try {
      const s = await newService({ graphiteConfigFile: cfgFile });
      const t = await topics();
      await s.handle(
        config([
          {
            type: "hist1d",
            data_brokers: [broker.bootstrap],
            data_topics: [t.data],
            tof_range: [0, 100_000_000],
            num_bins: 50,
            topic: t.hist,
          },
        ]),
      );
      await lastHist(t.hist, (i) => i.state === "INITIALISED");
      const ev = makeEvents(700);
      ev.pulse = 1_700_000_000_600_000_000n;
      const inRange = [...ev.tof].filter((x) => x >= 0 && x <= 100_000_000).length;
      await produce(conn, t.data, [{ value: encode("ev44", ev) }]);
      await waitFor("graphite sum", async () =>
        lines.includes(`just-bin-it.histogram-0-0-sum ${inRange} 1700000001`) ? true : undefined,
      );
      // Later publishes of unchanged data repeat the previous diff (just-bin-it.md §3.6).
      assert.ok(lines.includes(`just-bin-it.histogram-0-0-diff ${inRange} 1700000001`), lines.join("\n"));
      assert.ok(
        lines.every((l) => /^just-bin-it\.histogram-0-0-(sum|diff) \d+ \d+$/.test(l)),
        lines.join("\n"),
      );
      await s.close();
    } finally {
      server.close();
    }
  });

  it("non-numeric start or stop is just-bin-it's ERROR (a TypeError in its histogram process)", async () => {
    const s = await newService();
    const t = await topics();
    const h = {
      type: "hist1d",
      data_brokers: [broker.bootstrap],
      data_topics: [t.data],
      tof_range: [0, 10],
      num_bins: 5,
      topic: t.hist,
      id: "bad",
    };
    await s.handle(config([h], { start: "abc" }));
    const a = await lastHist(t.hist, (i) => i.state === "ERROR");
    assert.equal(
      pyDecodeHistograms([a])[0].info_raw,
      '{"id": "bad", "start": "abc", "state": "ERROR", "last_pulse_time": 0, "sum": 0, "diff": 0, "rate": 0, "error_message": "\'str\' object cannot be interpreted as an integer"}',
    );
    const t2 = await topics();
    await s.handle(config([{ ...h, data_topics: [t2.data], topic: t2.hist }], { stop: "later" }));
    const msgs = await waitFor("INITIALISED then ERROR", async () => {
      const all = await readAll(conn, t2.hist);
      return all.length >= 2 ? all : undefined;
    });
    assert.deepEqual(
      msgs.map((m) => info(m).state),
      ["INITIALISED", "ERROR"],
    );
    assert.equal(info(msgs[1]).stop, "later");
    assert.equal(info(msgs[1]).error_message, 'can only concatenate str (not "int") to str');
    await s.close();
  });

  it("a data topic created after its config was refused: ERR 'Invalid Kafka settings', then a re-sent config counts", async () => {
    const s = await newService({ responseTopic: "resp" });
    await createTopics(conn, ["resp"]);
    uid++;
    const t = { data: `late_data_${uid}`, hist: `late_hist_${uid}` };
    await createTopics(conn, [t.hist]);
    const h = {
      type: "hist1d",
      data_brokers: [broker.bootstrap],
      data_topics: [t.data],
      tof_range: [0, 100_000_000],
      num_bins: 50,
      topic: t.hist,
    };
    // just-bin-it checks every data topic before starting (are_kafka_settings_valid): a missing one is refused.
    await s.handle(config([h], { msg_id: "late-1" }));
    const err = await waitFor("ERR", async () =>
      (await readAll(conn, "resp")).map(String).find((x) => x.includes('"late-1"')),
    );
    assert.equal(err, '{"msg_id": "late-1", "response": "ERR", "message": "Invalid Kafka settings"}');
    await createTopics(conn, [t.data]);
    await s.handle(config([h], { msg_id: "late-2" }));
    await lastHist(t.hist, (i) => i.state === "INITIALISED");
    const ev = makeEvents(300);
    const inRange = [...ev.tof].filter((x) => x >= 0 && x <= 100_000_000).length;
    await produce(conn, t.data, [{ value: encode("ev44", ev) }]);
    await lastHist(t.hist, (i) => i.sum === inRange);
    await s.close();
  });

  it("a broker that goes away and comes back mid-run: histogramming resumes and the counts stay exact", async () => {
    const s = await newService();
    const t = await topics();
    await s.handle(
      config([
        {
          type: "hist1d",
          data_brokers: [broker.bootstrap],
          data_topics: [t.data],
          tof_range: [0, 100_000_000],
          num_bins: 50,
          topic: t.hist,
          id: "restart",
        },
      ]),
    );
    await lastHist(t.hist, (i) => i.state === "INITIALISED");
    const inRange = (e: ReturnType<typeof makeEvents>) =>
      [...e.tof].filter((x) => x >= 0 && x <= 100_000_000).length;
    const a = makeEvents(2000);
    await produce(conn, t.data, [{ value: encode("ev44", a) }]);
    await lastHist(t.hist, (i) => i.sum === inRange(a));
    await broker.restart();
    const b = makeEvents(3000);
    const c = makeEvents(1000);
    await produce(conn, t.data, [{ value: encode("ev44", b) }, { value: encode("ev44", c) }]);
    const total = inRange(a) + inRange(b) + inRange(c);
    await lastHist(t.hist, (i) => i.sum === total, 90_000);
    await s.handle(parseCommandJson(Buffer.from('{"cmd": "stop"}')));
    const fin = pyDecodeHistograms([await lastHist(t.hist, (i) => i.state === "FINISHED", 60_000)])[0];
    assert.equal(fin.info.sum, total);
    assert.equal(
      fin.data.reduce((x, y) => x + y, 0),
      total,
    );
    await delay(10);
    await s.close();
  });
});
