// The Kafka door's durable state (--state-dir): one checkpoint file holding the running config, every histogram's
// counts and statistics, and the offsets of every data topic that produced exactly those counts, taken as one
// consistent cut (service.ts pauses the readers between two fetch responses and waits for the fill workers).
// Restoring resumes the counts and the offsets together, so after kill -9 every event is counted exactly once.
// The file is written as the gRPC door's checkpoints are (src/state/checkpoint.ts: write, fsync, rename; the
// previous generation kept).
import { readCheckpoint, writeCheckpoint } from "../state/checkpoint.ts";
import type { StoredMeta } from "../state/format.ts";
import type { StateSnapshot } from "./info.ts";

export const KAFKA_CHECKPOINT = "kafka-door";

/** One histogram of the running config. */
export interface JobSnapshot {
  done: boolean;
  state: StateSnapshot;
}

/** The next offset of every partition of one data topic, as decimal strings by partition. */
export interface ReaderSnapshot {
  key: string;
  offsets: Record<string, string>;
}

export interface KafkaCheckpointMeta extends StoredMeta {
  kind: "histd-kafka";
  lengths: number[];
  /** When the cut was taken (ms since the epoch). */
  takenAt: number;
  /** The running config: the command as received, and its Kafka timestamp; absent when nothing runs. */
  config?: { text: string; timestampMs: number } | undefined;
  /** The config topic's next offset per partition: commands from here on have not been handled yet. */
  configOffsets: Record<string, string>;
  /** One per histogram of the config, in order; counts are the arrays of the file, in the same order. */
  jobs: JobSnapshot[];
  /** Data topics whose reader had been positioned. */
  readers: ReaderSnapshot[];
}

export interface KafkaCheckpoint {
  meta: KafkaCheckpointMeta;
  counts: Float64Array[];
}

export function offsetsToRecord(m: Map<number, bigint>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, o] of m) out[String(p)] = String(o);
  return out;
}

export function offsetsFromRecord(r: Record<string, string>): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const [p, o] of Object.entries(r)) out.set(Number(p), BigInt(o));
  return out;
}

/** Writes the checkpoint durably; returns its size in bytes. */
export function saveKafkaCheckpoint(dir: string, c: KafkaCheckpoint): Promise<number> {
  return writeCheckpoint(dir, KAFKA_CHECKPOINT, c.meta, c.counts);
}

/** The newest valid checkpoint in `dir`, if any; `bad` collects generations that were torn or corrupt. */
export async function loadKafkaCheckpoint(
  dir: string,
  bad: string[] = [],
): Promise<KafkaCheckpoint | undefined> {
  const c = await readCheckpoint<KafkaCheckpointMeta>(dir, KAFKA_CHECKPOINT, bad);
  if (!c) return undefined;
  if (c.meta.kind !== "histd-kafka" || c.meta.jobs.length !== c.fields.length) {
    bad.push(`${c.file}: not a Kafka door checkpoint`);
    return undefined;
  }
  return { meta: c.meta, counts: c.fields };
}
