// The Kafka client allocates a fresh buffer for every socket read and concatenates each record that spans two reads
// into another: ~250 MB/s of ArrayBuffers at 3e7 events/s. By default V8 starts a full garbage collection whenever
// external memory has grown by 64 MB since the last one, i.e. a mark-compact every ~100 ms of an 18 MB heap, which
// took about a quarter of the Kafka door's CPU (on V8's helper threads). Counted within the global heap limit
// instead, external memory triggers those collections far less often: measured 3-11 instead of 16-24 ns of GC per
// event, ~19% less CPU per event in all (BENCHMARKS.md, "Where the CPU goes").
import { setFlagsFromString } from "node:v8";

/** Call once, before the Kafka clients start; process-wide (the fill workers' isolates included). */
export function tuneGcForKafka(): void {
  setFlagsFromString("--external-memory-accounted-in-global-limit");
}
