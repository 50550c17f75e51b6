// `npm run bench:state [-- --fills-only]`: the cost of durable state in the gRPC door.
//  1. fills/s through the real server process (bin/haas-server) from 8 concurrent TS-client senders, fills of
//     1,000 entries with fill ids: no state, --state-dir (checkpoints every 1 s), --state-dir --wal.
//  2. a 1e8-bin double histogram (800 MB): checkpoint round time and file size, the copy under the fill queue
//     (how long fills of that histogram wait), and restore time.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistdClient } from "../src/client/index.ts";
import { Histogram, histogramToUhi, RegularAxis, uhiToJson } from "../src/engine/index.ts";
import { Registry } from "../src/grpc/registry.ts";
import { DurableState } from "../src/state/durable.ts";
import { startServer } from "../test/grpc/support.ts";

const quiet = { info() {}, warn() {}, error: (m: string) => console.error(m) };
const SECONDS = 3;

async function fillRate(label: string, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "histd-bench-state-"));
  const s = await startServer(["--no-demo", "--no-http", ...args.map((a) => a.replace("DIR", dir))], {
    histIr: false,
  });
  const c = new HistdClient(s.address);
  const uhi = uhiToJson(
    histogramToUhi(
      new Histogram([new RegularAxis(1000, 0, 1, { metadata: { name: "x" } })], { storage: "weighted" }),
    ),
  );
  await c.create(uhi, { id: "h" });
  const x = Float64Array.from({ length: 1000 }, (_, i) => (i * 0.618) % 1);
  const w = new Float64Array(1000).fill(0.5);
  let n = 0;
  let k = 0;
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await c.fill("h", { x, weight: w }, { fillId: `f${k++}` });
        lat.push(performance.now() - t0);
        n++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const row = {
    case: label,
    fills_per_s: Math.round(n / SECONDS),
    p50_ms: +lat[Math.floor(lat.length / 2)].toFixed(2),
    p99_ms: +lat[Math.floor(lat.length * 0.99)].toFixed(2),
  };
  console.log(JSON.stringify(row));
  c.close();
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
}

await fillRate("no state", []);
await fillRate("--state-dir (checkpoint every 1 s)", ["--state-dir", "DIR", "--checkpoint-interval", "1"]);
await fillRate("--state-dir --wal", ["--state-dir", "DIR", "--wal", "--checkpoint-interval", "1"]);
// `--fills-only`: just the three rows above (bench/scale.bench.ts reports them next to the Kafka door's costs).
if (process.argv.includes("--fills-only")) process.exit(0);

// A 1e8-bin histogram (1e8 + 2 cells with flow, double storage: 800 MB).
const dir = mkdtempSync(join(tmpdir(), "histd-bench-state-"));
const reg = new Registry();
const h = new Histogram([new RegularAxis(1e8, 0, 1, { metadata: { name: "x" } })]);
h.fill([Float64Array.from({ length: 1e6 }, (_, i) => (i * 0.618) % 1)]);
const e = reg.add(h, "", "big");
const t0 = performance.now();
const copy = h.storage.fields.map((f) => f.slice());
const copyMs = performance.now() - t0; // one unchunked copy, for comparison
copy.length = 0;
const st = new DurableState({ dir, wal: false, log: quiet });
await st.restore(reg);
st.start(reg);
e.changed();
const t1 = performance.now();
await st.checkpoint();
const ckptS = (performance.now() - t1) / 1000;
const size = statSync(join(dir, "h-big.ckpt")).size;
// While a checkpoint runs: the longest wait of this histogram's fill queue, and the longest event-loop stall
// (what every other RPC can wait).
e.changed();
let maxWait = 0;
let maxStall = 0;
let done = false;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - last);
  last = now;
}, 1);
const round = st.checkpoint().then(() => {
  done = true;
});
while (!done) {
  const q = performance.now();
  await e.run(() => undefined);
  maxWait = Math.max(maxWait, performance.now() - q);
  await new Promise((r) => setTimeout(r, 5));
}
clearInterval(ticker);
await round;
await st.close();
const back = new Registry();
const t2 = performance.now();
await new DurableState({ dir, wal: false, log: quiet }).restore(back);
const restoreS = (performance.now() - t2) / 1000;
console.log(
  JSON.stringify({
    case: "checkpoint of a 1e8-bin double histogram",
    bytes: size,
    checkpoint_s: +ckptS.toFixed(2),
    copy_under_queue_ms: Math.round(copyMs),
    max_fill_wait_during_checkpoint_ms: Math.round(maxWait),
    max_event_loop_stall_ms: Math.round(maxStall),
    restore_s: +restoreS.toFixed(2),
    restored_equal: back.get("big", "").hist.storage.fields[0][12345] === h.storage.fields[0][12345],
  }),
);
rmSync(dir, { recursive: true, force: true });
