// node bench/kafka-fill.bench.ts [--json] [--rounds R] [--messages N] [--compare DIR]: the Kafka door's decode +
// fill from memory, without a broker: the bench's 64 ev44 messages of 12,400 events (pixel ids uniform over 1M
// pixels, ToF uniform 0-71 ms, same generator as bench/kafka.bench.ts) copied into one aligned batch as the service
// hands them to a fill worker, then filled on this thread into bench/kafka.bench.ts's hist1d (1000 bins), hist2d
// (100x100) and dethist (1000x1000). Cases, alternated round by round so that all see the same machine:
//  - "per_histogram_3": decode each message, then JbiHistogram.add() per histogram (the main thread's path);
//  - "batch_3": fillBatch() over the three histograms, what the fill workers run;
//  - "batch_3_separately": fillBatch() once per histogram; "batch_<type>": one histogram alone.
// --compare DIR runs the same cases with the fill code of another checkout too (e.g. a git worktree of an older
// commit: its src/kafka/histograms.ts and fill-batch.ts), in the same process and rounds, and reports the ratios.
// Reports the median (and range) over the rounds of the process's CPU time per event (user + system, in ns): on a
// shared VM the wall time also counts the time other processes had the core.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { decodeEvents } from "../src/formats/flatbuffers/index.ts";
import type { HistogramSpec } from "../src/kafka/config-commands.ts";
import * as batchHere from "../src/kafka/fill-batch.ts";
import type { JbiHistogram } from "../src/kafka/histograms.ts";
import * as histsHere from "../src/kafka/histograms.ts";
import { EVENTS_PER_MESSAGE, ev44Messages } from "./ev44-messages.ts";

const { values } = parseArgs({
  options: {
    json: { type: "boolean" },
    rounds: { type: "string" },
    messages: { type: "string" },
    compare: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds ?? 9);
/** Messages per round: whole passes over the 64 messages. */
const M = Math.max(1, Math.round(Number(values.messages ?? 320) / 64)) * 64;
const E = EVENTS_PER_MESSAGE;

const msgs: Uint8Array[] = ev44Messages(64);
// One batch holding the 64 messages at 8-byte-aligned offsets (as fill-pool.ts's Batch lays them out).
let used = 0;
const spanList: number[] = [];
for (const m of msgs) {
  const at = (used + 7) & ~7;
  spanList.push(at, m.length);
  used = at + m.length;
}
const bytes = new Uint8Array(used);
for (let k = 0; k < msgs.length; k++) bytes.set(msgs[k], spanList[2 * k]);
const spans = Int32Array.from(spanList);

const base = {
  width: 0,
  height: 0,
  leftEdges: [],
  topic: "o",
  dataTopics: ["bench_events"],
  dataBrokers: ["b"],
  source: "",
  id: "",
  tofRange: [0, 71_000_000] as [number, number],
  numBins: 1,
};
const specs: HistogramSpec[] = [
  { ...base, type: "hist1d", numBins: 1000 },
  { ...base, type: "hist2d", detRange: [0, 1_000_000], numBins: [100, 100] },
  { ...base, type: "dethist", tofRange: [0, 0], detRange: [0, 1_000_000], width: 1000, height: 1000 },
];

type FillBatch = typeof batchHere.fillBatch;
type Create = typeof histsHere.createHistogram;

function casesOf(fillBatch: FillBatch, createHistogram: Create, suffix: string) {
  const hists = specs.map(createHistogram);
  const perHistogram = () => {
    for (let r = 0; r * 64 < M; r++)
      for (let m = 0; m < 64; m++) {
        const ev = decodeEvents(bytes.subarray(spans[2 * m], spans[2 * m] + spans[2 * m + 1]));
        if (ev.schema !== "ev44") continue;
        for (const h of hists) h.add(ev.timeOfFlight, ev.pixelId);
      }
  };
  const flags = (k: number) => new Uint8Array(64 * k).fill(1);
  const batch = (hs: readonly JbiHistogram[]) => {
    const f = flags(hs.length);
    for (let r = 0; r * 64 < M; r++) fillBatch(hs, bytes, spans, f);
  };
  const cases: [string, () => void][] = [
    ["per_histogram_3", perHistogram],
    ["batch_3", () => batch(hists)],
    [
      "batch_3_separately",
      () => {
        for (const h of hists) batch([h]);
      },
    ],
    ["batch_hist1d", () => batch([hists[0]])],
    ["batch_hist2d", () => batch([hists[1]])],
    ["batch_dethist", () => batch([hists[2]])],
  ];
  return { hists, cases: cases.map(([n, f]) => [n + suffix, f] as [string, () => void]) };
}

const here = casesOf(batchHere.fillBatch, histsHere.createHistogram, "");
const all = [here];
if (values.compare) {
  const dir = resolve(values.compare);
  const b = (await import(pathToFileURL(`${dir}/src/kafka/fill-batch.ts`).href)) as typeof batchHere;
  const h = (await import(pathToFileURL(`${dir}/src/kafka/histograms.ts`).href)) as typeof histsHere;
  all.push(casesOf(b.fillBatch, h.createHistogram, "_compared"));
}
const cases = all.flatMap((a) => a.cases);
const events = M * E;
const ns: Record<string, number[]> = {};
for (const [name, f] of cases) {
  f(); // warm-up
  ns[name] = [];
}
for (let r = 0; r < ROUNDS; r++)
  for (const [name, f] of cases) {
    const c = process.cpuUsage();
    f();
    const d = process.cpuUsage(c);
    ns[name].push(((d.user + d.system) * 1e3) / events);
  }
// Every histogram got the same events in every case: the same sums, and (with --compare) the same counts.
const sums = here.hists.map((h) => h.sum());
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const out: Record<string, unknown> = { bench: "kafka-fill", rounds: ROUNDS, events_per_round: events, sums };
if (all.length > 1)
  out.same_counts_as_compared = here.hists.every((h, k) =>
    h.counts.every((v, i) => v === all[1].hists[k].counts[i]),
  );
for (const [name] of cases) {
  out[`${name}_ns_per_event`] = Number(med(ns[name]).toFixed(2));
  out[`${name}_range`] = [Number(Math.min(...ns[name]).toFixed(2)), Number(Math.max(...ns[name]).toFixed(2))];
  if (all.length > 1 && !name.endsWith("_compared"))
    out[`${name}_speedup`] = Number((med(ns[`${name}_compared`]) / med(ns[name])).toFixed(2));
}
console.log(values.json ? JSON.stringify(out) : out);
