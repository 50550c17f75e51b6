// The dashboard in Debian's chromium (playwright-core): it lists the histograms of every door, draws a 1D step
// plot and heatmaps (coloured pixels sampled from the canvases), updates the page after a fill through the
// gRPC door, shows a lost connection and recovers when the server returns. Screenshots go to artifacts/.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { Catalog } from "../../src/catalog/index.ts";
import { HistdClient } from "../../src/client/index.ts";
import { startDemoStream } from "../../src/demo/stream.ts";
import { silentLogger } from "../../src/grpc/log.ts";
import { type RunningServer, startServer } from "../../src/grpc/server.ts";
import { type HttpServer, startHttp } from "../../src/http/server.ts";
import { artifact, CHROMIUM, launch } from "./browser.ts";

const catalog = new Catalog();
let grpc: RunningServer;
let http: HttpServer;
let client: HistdClient;
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;
let demo: ReturnType<typeof startDemoStream>;

const H2 = JSON.stringify({
  uhi_schema: 1,
  axes: [
    {
      type: "regular",
      lower: 0,
      upper: 1,
      bins: 40,
      underflow: true,
      overflow: true,
      circular: false,
      metadata: { name: "a" },
    },
    {
      type: "regular",
      lower: 0,
      upper: 1,
      bins: 30,
      underflow: true,
      overflow: true,
      circular: false,
      metadata: { name: "b" },
    },
  ],
  storage: { type: "double", values: Array.from({ length: 42 }, () => new Array(32).fill(0)) },
});

before(async () => {
  // A missing browser fails the suite: skipped browser tests would pass CI without proving anything.
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
  grpc = await startServer({ host: "127.0.0.1", port: 0, log: silentLogger, catalog });
  http = await startHttp({ catalog, host: "127.0.0.1", port: 0, pushMs: 100 });
  demo = startDemoStream(catalog, { rate: 50_000, periodMs: 100 });
  client = new HistdClient(`127.0.0.1:${grpc.port}`);
  browser = await launch();
  page = await browser.browser.newPage();
});
after(async () => {
  await browser?.close();
  demo?.stop();
  client?.close();
  await http?.close();
  await grpc?.close();
});

const ink = (key: string) =>
  page.evaluate(`window.histd.inkFraction(${JSON.stringify(key)})`) as Promise<number>;
const sumOnPage = (key: string) =>
  page.evaluate(
    `document.querySelector('[data-key="${key}"] dd[data-field="sum"]')?.dataset.value ?? null`,
  ) as Promise<string | null>;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

test("the dashboard lists every histogram and draws a 1D plot and heatmaps", async () => {
  await client.create(H2, { id: "live2d" });
  await page.goto(http.url);
  const keys = await until(
    "the cards",
    () =>
      page.evaluate("[...document.querySelectorAll('.card')].map((c) => c.dataset.key).sort()") as Promise<
        string[]
      >,
    (k) => k.length === 4,
  );
  assert.deepEqual(keys, ["demo:detector", "demo:tof", "demo:tof-x", "grpc:live2d"]);
  // the 1D step plot: coloured (blue) pixels where the counts are, up in the top half (the peaks), not only a
  // line along the bottom
  await until(
    "the 1D plot",
    () => page.evaluate(`window.histd.inkFraction("demo:tof", 0.5)`) as Promise<number>,
    (f) => f > 0.0005,
  );
  // the heatmaps: most of the plot box is coloured once the stream has filled it
  await until(
    "the detector image",
    () => ink("demo:detector"),
    (f) => f > 0.15,
  );
  await until(
    "the tof × column heatmap",
    () => ink("demo:tof-x"),
    (f) => f > 0.3,
  );
  // an empty 2D histogram draws axes but no colour
  assert.ok((await ink("grpc:live2d")) < 0.01);
  assert.match((await page.textContent("#health")) ?? "", /4 histograms .* ready/);
  await page.screenshot({ path: artifact("dashboard.png"), fullPage: true });
});

test("values on the page follow a fill through the gRPC door", async () => {
  const n = 20_000;
  const a = new Float64Array(n).map((_, i) => (i % 97) / 97);
  const b = new Float64Array(n).map((_, i) => (i % 89) / 89);
  await client.fill("live2d", { a, b });
  await until(
    "the sum after the fill",
    () => sumOnPage("grpc:live2d"),
    (s) => s === String(n),
  );
  await until(
    "the filled heatmap",
    () => ink("grpc:live2d"),
    (f) => f > 0.3,
  );
  await client.fill("live2d", { a: a.subarray(0, 5000), b: b.subarray(0, 5000) });
  await until(
    "the sum after a second fill",
    () => sumOnPage("grpc:live2d"),
    (s) => s === String(n + 5000),
  );
  // projections: the page asks for the projection and plots it as a step plot
  await page.selectOption('[data-key="grpc:live2d"] select.view', "0");
  await until(
    "the projection",
    () => ink("grpc:live2d"),
    (f) => f > 0.002 && f < 0.3,
  );
  await page.screenshot({ path: artifact("dashboard-after-fill.png"), fullPage: true });
});

test("the page shows a lost connection and recovers when the server returns", async () => {
  const port = http.port;
  await http.close();
  await until(
    "the lost-connection banner",
    () => page.isVisible("#banner"),
    (v) => v,
  );
  assert.equal(await page.textContent("#conn"), "connection lost");
  await page.screenshot({ path: artifact("dashboard-lost.png") });
  http = await startHttp({ catalog, host: "127.0.0.1", port, pushMs: 100 });
  await until(
    "the reconnect",
    () => page.isVisible("#banner"),
    (v) => !v,
  );
  assert.equal(await page.textContent("#conn"), "live");
  await client.fill("live2d", { a: [0.5], b: [0.5] });
  await until(
    "the sum after the reconnect",
    () => sumOnPage("grpc:live2d"),
    (s) => s === "25001",
  );
});

// Events arriving through the Kafka door: test/web/dashboard-kafka.test.ts.
