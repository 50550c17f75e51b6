// `npm run bench`: 10M-event fills in histd (one thread, and all cores), boost-histogram and numpy, side by side.
// Usage: npm run bench [-- --json] [-- --events N] [-- --repeat N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FillPool, type FillValue, Histogram } from "../src/engine/index.ts";
import { type BenchCase, benchCases } from "./cases.ts";

const { values: opts } = parseArgs({
  options: { json: { type: "boolean" }, events: { type: "string" }, repeat: { type: "string" } },
});
const events = Number(opts.events ?? 10_000_000);
const repeat = Number(opts.repeat ?? 5);
const root = resolve(import.meta.dirname, "..");
const cases = benchCases(events);

function best(fn: () => void | Promise<void>): Promise<number> {
  return (async () => {
    let t = Number.POSITIVE_INFINITY;
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      await fn();
      t = Math.min(t, performance.now() - t0);
    }
    return t / 1000;
  })();
}

function args(c: BenchCase): FillValue[] {
  return c.columns.map((col) => col.data);
}

function writeColumn(path: string, data: Float64Array): string {
  writeFileSync(path, data);
  return path;
}

function peers(): Map<string, { boost_histogram_mevs: number; numpy_mevs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "histd-bench-"));
  try {
    const spec = {
      events,
      cases: cases.map((c, i) => ({
        name: c.name,
        bh: c.bh,
        numpy: c.numpy,
        columns: c.columns.map((col, k) => {
          const path = join(dir, `${i}-${k}.${col.dtype}`);
          if (col.dtype === "str") writeFileSync(path, (col.data as string[]).join("\n"));
          else writeFileSync(path, col.data as Float64Array);
          return { path, dtype: col.dtype };
        }),
        weight: c.weight && writeColumn(join(dir, `${i}-w`), c.weight),
      })),
    };
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    const r = spawnSync(
      join(root, ".venv/bin/python"),
      [join(root, "bench/peers.py"), join(dir, "spec.json"), String(repeat)],
      {
        encoding: "utf8",
        maxBuffer: 1 << 26,
      },
    );
    if (r.status !== 0) throw new Error(`peers failed: ${r.stderr}`);
    const out = new Map<string, { boost_histogram_mevs: number; numpy_mevs: number }>();
    for (const line of r.stdout.trim().split("\n")) {
      const o = JSON.parse(line) as { case: string; boost_histogram_mevs: number; numpy_mevs: number };
      out.set(o.case, o);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pool = new FillPool();
const peerRates = peers();
const rows: Record<string, number | string>[] = [];
for (const c of cases) {
  const single = await best(() => {
    const h = new Histogram(c.axes(), { storage: c.storage });
    h.fill(args(c), { weight: c.weight });
  });
  const parallel = await best(async () => {
    const h = new Histogram(c.axes(), { storage: c.storage });
    await pool.fill(h, args(c), { weight: c.weight });
  });
  const p = peerRates.get(c.name)!;
  const row = {
    case: c.name,
    histd_mevs: events / single / 1e6,
    histd_parallel_mevs: events / parallel / 1e6,
    boost_histogram_mevs: p.boost_histogram_mevs,
    numpy_mevs: p.numpy_mevs,
  };
  rows.push(row);
  if (opts.json) console.log(JSON.stringify(row));
}
await pool.close();

if (!opts.json) {
  const f = (x: number) => x.toFixed(1).padStart(8);
  console.log(
    `${events.toLocaleString("en")} events per fill, best of ${repeat}; Mevents/s (ratio to boost-histogram)\n`,
  );
  console.log(
    `${"case".padEnd(26)}${"histd".padStart(16)}${"histd 2 cores".padStart(18)}${"boost-hist".padStart(12)}${"numpy".padStart(10)}  parallel/single`,
  );
  for (const r of rows) {
    const [s, par, b, n] = [
      r.histd_mevs,
      r.histd_parallel_mevs,
      r.boost_histogram_mevs,
      r.numpy_mevs,
    ] as number[];
    console.log(
      `${String(r.case).padEnd(26)}${f(s)} (${(s / b).toFixed(2)}x)${f(par)} (${(par / b).toFixed(2)}x)${f(b)}${f(n)}  ${(par / s).toFixed(2)}x`,
    );
  }
}
