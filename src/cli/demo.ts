// `histd demo`: what the seed's example does, in one process and with no network: load the example histogram,
// fill it with 1M simulated events per dataset (as the seed's client.py), and print it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Histogram, histogramFromUhi, project, sum, uhiFromJson, values } from "../engine/index.ts";

const HELP = `Usage: histd demo [--hist-ir FILE|JSON] [--events N] [--seed N]

Fills the example histogram (example/hist_ir.json) with N simulated events for each of the datasets
"data" and "drell-yan" (x, y standard normal, weight 1), as the seed's example client does, then prints the
histogram, its sum, and the x projection as a bar chart.`;

/** Standard normal pairs from a seeded xorshift (Box-Muller), so runs are reproducible. */
function normals(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

export function loadHistIr(arg: string): Histogram {
  const text = arg.trimStart().startsWith("{")
    ? arg
    : readFileSync(arg.startsWith("@") ? arg.slice(1) : arg, "utf8");
  return histogramFromUhi(uhiFromJson(text));
}

export function barChart(labels: string[], counts: ArrayLike<number>, width = 50): string {
  const max = Math.max(1, ...Array.from(counts));
  return labels
    .map(
      (l, i) =>
        `${l.padStart(14)} ${"█".repeat(Math.round((counts[i] / max) * width)).padEnd(width)} ${counts[i]}`,
    )
    .join("\n");
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values: opts } = parseArgs({
    args: argv,
    options: {
      "hist-ir": { type: "string", default: resolve(import.meta.dirname, "../../example/hist_ir.json") },
      events: { type: "string", default: "1000000" },
      seed: { type: "string", default: "42" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const h = loadHistIr(opts["hist-ir"]);
  const n = Number(opts.events);
  const seed = Number(opts.seed);
  console.log(`Histogram setup successfully: ${h.repr()}`);
  for (const [i, dataset] of ["data", "drell-yan"].entries()) {
    const columns = {
      x: normals(n, seed + 2 * i),
      y: normals(n, seed + 2 * i + 1),
      dataset,
      weight: new Float64Array(n).fill(1),
    };
    const t0 = performance.now();
    h.fillNamed(columns);
    const ms = performance.now() - t0;
    console.log(`Filled ${n.toLocaleString("en")} events of '${dataset}' in ${ms.toFixed(1)} ms`);
  }
  console.log(`Sum: ${sum(h)} (${sum(h, true)} with flow)\n`);
  const px = project(h, [0]);
  const edges = px.axes[0].edges();
  const labels = Array.from(
    { length: px.axes[0].size },
    (_, i) => `[${edges[i].toFixed(1)}, ${edges[i + 1].toFixed(1)})`,
  );
  console.log("x projection:");
  console.log(barChart(labels, values(px).data));
  return 0;
}
