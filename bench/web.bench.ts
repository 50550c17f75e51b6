// npm run bench:web: a 1000×1000 heatmap in Debian's chromium receiving live updates over the dashboard's
// WebSocket. Two loads: "sparse" (20,000 events per update: delta frames) and "dense" (every cell changes at
// every update: full float32 frames, 4 MB each). Prints updates per second drawn, main-thread ms per update
// (frame decode + canvas redraw) and bytes sent per update. Target: >= 5 updates/s, <= 50 ms per update.
import { Catalog } from "../src/catalog/index.ts";
import { Histogram, RegularAxis } from "../src/engine/index.ts";
import { startHttp } from "../src/http/server.ts";
import { launch } from "../test/web/browser.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const PERIOD_MS = 100; // 10 updates/s offered

function quantile(a: number[], q: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function run(mode: "sparse" | "dense") {
  const catalog = new Catalog();
  const h = new Histogram(
    [
      new RegularAxis(1000, 0, 1, { metadata: { name: "x" } }),
      new RegularAxis(1000, 0, 1, { metadata: { name: "y" } }),
    ],
    { storage: "double" },
  );
  const entry = catalog.add({ door: "demo", id: "big", kind: "hist2d", histogram: () => h });
  const n = mode === "sparse" ? 20_000 : 0;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    if (mode === "sparse") {
      for (let i = 0; i < n; i++) {
        x[i] = 0.5 + 0.15 * Math.sqrt(-2 * Math.log(Math.random())) * Math.cos(2 * Math.PI * Math.random());
        y[i] = Math.random();
      }
      h.fill([x, y]);
    } else {
      // every cell changes: add a moving pattern
      const f = h.storage.fields[0];
      for (let i = 0; i < f.length; i++) f[i] += 1 + ((i + tick) % 7);
    }
    entry.touch();
  }, PERIOD_MS);
  const http = await startHttp({ catalog, host: "127.0.0.1", port: 0, pushMs: 50 });
  const b = await launch({ width: 1600, height: 1200 });
  try {
    const page = await b.browser.newPage();
    await page.goto(http.url);
    page.on("pageerror", (e) => console.error("page error:", e.message));
    page.on("crash", () => console.error("page crashed"));
    await page.waitForFunction("window.histd && window.histd.stats.draws > 2", undefined, { timeout: 20000 });
    const read = () =>
      page.evaluate(
        "(() => { const s = window.histd.stats; return { updates: s.updates, draws: s.draws, bytes: s.bytes, decodeMs: s.decodeMs.slice(), drawMs: s.drawMs.slice() }; })()",
      ) as Promise<{ updates: number; draws: number; bytes: number; decodeMs: number[]; drawMs: number[] }>;
    const s0 = await read();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const s1 = await read();
    const updates = s1.updates - s0.updates;
    const draws = s1.draws - s0.draws;
    const decode = s1.decodeMs.slice(s0.decodeMs.length);
    const draw = s1.drawMs.slice(s0.drawMs.length);
    const perUpdate = draw.map((d, i) => d + (decode[i] ?? 0));
    const r = {
      mode,
      "updates/s received": +(updates / SECONDS).toFixed(1),
      "redraws/s": +(draws / SECONDS).toFixed(1),
      "bytes/update": Math.round((s1.bytes - s0.bytes) / Math.max(1, updates)),
      "decode ms p50/max": `${quantile(decode, 0.5).toFixed(1)} / ${Math.max(0, ...decode).toFixed(1)}`,
      "redraw ms p50/max": `${quantile(draw, 0.5).toFixed(1)} / ${Math.max(0, ...draw).toFixed(1)}`,
      "main-thread ms per update p95/max": `${quantile(perUpdate, 0.95).toFixed(1)} / ${Math.max(0, ...perUpdate).toFixed(1)}`,
    };
    const ok = draws / SECONDS >= 5 && Math.max(0, ...perUpdate) <= 50;
    return { ...r, "target met": ok };
  } finally {
    clearInterval(timer);
    await b.close();
    await http.close();
  }
}

const results = [await run("sparse"), await run("dense")];
console.log(`1000×1000 heatmap in chromium, ${1000 / PERIOD_MS} updates/s offered, ${SECONDS} s each`);
console.table(results);
