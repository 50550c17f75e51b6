// The Kafka door's GC setting (src/kafka/gc-tuning.ts) must keep working: V8 ignores unknown flags silently, so a
// Node upgrade that dropped it would otherwise cost ~30% of throughput unnoticed (BENCHMARKS.md, Kafka door).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";

function majorGcs(mode: "default" | "tuned"): number {
  const out = execFileSync(process.execPath, [new URL("./gc-probe.ts", import.meta.url).pathname, mode], {
    encoding: "utf8",
  });
  return (JSON.parse(out) as { major: number }).major;
}

test("tuneGcForKafka: short-lived external buffers no longer force a full GC every 64 MB", () => {
  const plain = majorGcs("default");
  const tuned = majorGcs("tuned");
  // 2 GB of 1 MiB buffers: ~17 full collections with V8's default, 1-2 with the setting.
  assert.ok(plain >= 8, `the default should collect often (${plain} full GCs)`);
  assert.ok(tuned * 4 <= plain, `tuned: ${tuned} full GCs, default: ${plain}`);
});
