// The dashboard shows the Kafka door's histograms: a config on the command topic puts its hist1d on the page,
// and the sum there follows the events produced to the data topic (expected counts from numpy, as the Kafka
// door's own tests do). The same catalog feeds /metrics with the door's counters.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { Catalog } from "../../src/catalog/index.ts";
import { type HttpServer, startHttp } from "../../src/http/server.ts";
import { silentLogger } from "../../src/kafka/log.ts";
import { Service } from "../../src/kafka/service.ts";
import { type Conn, createTopics, encode, makeEvents, numpyExpected, produce } from "../kafka/jbi-support.ts";
import { type Broker, startBroker } from "../support/kafka-broker.ts";
import { artifact, CHROMIUM, launch } from "./browser.ts";

let broker: Broker;
let conn: Conn;
let service: Service;
let http: HttpServer;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
const catalog = new Catalog();

before(
  async () => {
    assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
    broker = await startBroker();
    conn = { bootstrapBrokers: [broker.bootstrap] };
    await createTopics(conn, ["commands", "responses", "events", "hists"]);
    service = new Service(
      {
        brokers: [broker.bootstrap],
        configTopic: "commands",
        responseTopic: "responses",
        simulationMode: false,
        logLevel: 3,
        oneShotPlot: false,
      },
      silentLogger,
      { catalog },
    );
    await service.start();
    http = await startHttp({ catalog, host: "127.0.0.1", port: 0, pushMs: 100 });
    browser = await launch();
    page = await browser.browser.newPage();
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await http?.close();
  await service?.close();
  await broker?.stop();
});

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 200));
    v = await fn();
  }
  return v;
}

const sumOnPage = () =>
  page.evaluate(
    `document.querySelector('[data-key="kafka:tof"] dd[data-field="sum"]')?.dataset.value ?? null`,
  ) as Promise<string | null>;

test("the page shows a Kafka histogram and follows the events that arrive", {
  timeout: 120_000,
}, async () => {
  await page.goto(http.url);
  const spec = {
    type: "hist1d",
    data_brokers: [broker.bootstrap],
    data_topics: ["events"],
    tof_range: [0, 100000000],
    num_bins: 50,
    topic: "hists",
    id: "tof",
  };
  await produce(conn, "commands", [
    {
      value: JSON.stringify({
        cmd: "config",
        input_schema: "ev44",
        output_schema: "hs01",
        histograms: [spec],
      }),
    },
  ]);
  await until("the Kafka card", sumOnPage, (s) => s !== null);
  const batches = Array.from({ length: 5 }, () => makeEvents(3000));
  await produce(
    conn,
    "events",
    batches.map((e, i) => ({ value: encode("ev44", e, i + 1) })),
  );
  const tof = batches.flatMap((b) => [...b.tof]);
  const expected = numpyExpected(spec, tof, []).reduce((a, b) => a + b, 0);
  assert.ok(expected > 14_000, `numpy counts ${expected} of ${tof.length}`);
  await until("the sum after the events", sumOnPage, (s) => s === String(expected));
  // The step line reaches the upper half of the plot: the y scale follows the counts (a line flat at zero
  // would colour only the bottom).
  await until(
    "the 1D plot",
    () => page.evaluate(`window.histd.inkFraction("kafka:tof", 0.5)`) as Promise<number>,
    (f) => f > 0.0005,
  );
  await page.screenshot({ path: artifact("dashboard-kafka.png"), fullPage: true });
  const metrics = await (await fetch(`${http.url}metrics`)).text();
  assert.match(metrics, /histd_kafka_messages_total\{topic="events"\} 5\b/);
  assert.match(metrics, /histd_kafka_commands_total 1\b/);
  assert.match(metrics, new RegExp(`histd_kafka_events_total ${tof.length}\\b`));
  assert.match(metrics, /histd_kafka_bytes_total\{topic="events"\} [1-9]\d*\b/);
  assert.match(metrics, /histd_kafka_publish_lateness_seconds \d/);
  // every message was read: the one partition's lag is 0
  assert.match(metrics, /histd_kafka_consumer_lag\{topic="events",partition="0"\} 0\b/);
});
