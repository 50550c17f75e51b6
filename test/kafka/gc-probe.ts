// Child process of gc-tuning.test.ts: allocates 2 GB of short-lived 1 MiB buffers (as the Kafka client does with
// socket reads) and prints how many full (major) garbage collections that caused, with or without the tuning.
import { constants, PerformanceObserver } from "node:perf_hooks";
import { tuneGcForKafka } from "../../src/kafka/gc-tuning.ts";

if (process.argv[2] === "tuned") tuneGcForKafka();
let major = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if (
      (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
      constants.NODE_PERFORMANCE_GC_MAJOR
    )
      major++;
}).observe({ entryTypes: ["gc"] });
let touched = 0;
for (let i = 0; i < 2000; i++) {
  const b = Buffer.allocUnsafeSlow(1 << 20);
  b[0] = i & 0xff;
  touched += b[0];
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ major, touched }));
