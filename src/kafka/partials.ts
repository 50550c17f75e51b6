// Scale-out state (--group): the partials topic. Every instance of a group counts the data-topic partitions the
// Kafka consumer group gives it, one histogram set per partition, and regularly publishes each partition's
// *partial*: its counts together with the offset they were counted up to, in one Kafka message. A partial is a
// self-contained fact ("partition p, from the config's start to offset o, gives these counts"), so any partial of
// a partition is a correct value for it and the newest (highest offset) is the best one. That is what makes the
// design hold under rebalances and crashes:
//   - the published histogram is the sum, over partitions, of each partition's newest partial;
//   - a partition that moves to another instance (rebalance, dead instance) resumes from its newest partial:
//     counts and offset together, so nothing is lost or counted twice;
//   - a late partial from an instance that lost the partition is still correct for its offset, and superseded by
//     the next one of the new owner.
// The topic is compacted and keyed by (config, topic, partition, instance). It also carries the group's command
// state (the running config and how far the config topic has been handled), so a restarted group resumes.
import { constants as zlibConstants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { decodeCheckpointSync, encodeCheckpointSync, type StoredMeta } from "../state/format.ts";

/** The per-histogram statistics a partial carries besides counts. */
export interface PartialJob {
  started: boolean;
  stopExceeded: boolean;
  lastPulseTime: string;
}

export interface PartialMeta extends StoredMeta {
  kind: "histd-partial";
  /** The config the counts belong to: the config topic offset of its command. */
  config: number;
  /** The last reset_counts applied (its config topic offset; -1 for none). */
  reset: number;
  /** The data topic's reader key and the partition. */
  topic: string;
  partition: number;
  /** Next offset: the counts hold every message of the partition before it. */
  offset: string;
  /** Whether the partition was read to its end when the partial was taken. */
  caughtUp: boolean;
  /** The last command the publishing instance had handled (config topic offset). */
  command: number;
  instance: string;
  takenAt: number;
  lengths: number[];
  jobs: PartialJob[];
}

export interface Partial {
  meta: PartialMeta;
  counts: Float64Array[];
}

/** The group's command state: the running config and how far the config topic has been handled. */
export interface CommandState {
  kind: "histd-commands";
  seq: number;
  /** The config topic's next offset per partition. */
  configOffsets: Record<string, string>;
  config?: { text: string; timestampMs: number; offset: number } | undefined;
  reset: number;
  lengths: number[];
}

export const COMMANDS_KEY = "commands";

export function partialKey(m: PartialMeta): string {
  return `${m.config}|${m.topic}|${m.partition}|${m.instance}`;
}

/**
 * A partial as stored on the partials topic: the checkpoint frame, zstd-compressed here (level 1) rather than by the
 * producer, so the cost is measured where it is paid (the spacing of the rounds) and the broker gets plain batches
 * whose keys it reads for compaction without decompressing megabytes.
 */
export function encodePartial(p: Partial): Buffer {
  return zstdCompressSync(encodeCheckpointSync(p.meta, p.counts), {
    params: { [zlibConstants.ZSTD_c_compressionLevel]: 1 },
  });
}

export function encodeCommands(c: CommandState): Buffer {
  return encodeCheckpointSync(c, []);
}

/** Decodes a partials-topic message (a checksummed checkpoint frame); throws on anything else. */
export function decodeRecord(value: Uint8Array): Partial | CommandState {
  const frame = isZstd(value) ? zstdDecompressSync(value, { maxOutputLength: MAX_PARTIAL_BYTES }) : value;
  const { meta, fields } = decodeCheckpointSync<PartialMeta | CommandState>(frame);
  if (meta.kind === "histd-commands") return meta;
  if (meta.kind !== "histd-partial" || meta.jobs.length !== fields.length)
    throw new Error("not a histd partial");
  // Copies: the fields may be views into the consumer's socket buffers, which the table would otherwise keep alive.
  return { meta, counts: fields.map((f) => f.slice()) };
}

/** A decompressed partial may not exceed this (a corrupt or hostile message must not exhaust memory); 1 GiB holds
 * the counts of a 1e8-bin histogram. */
const MAX_PARTIAL_BYTES = 1 << 30;

function isZstd(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

/**
 * The newest partial of every partition of the running config (by reset, then offset), as read from the partials
 * topic. Partials of other configs are ignored; counts from before the last reset_counts count as zero.
 */
export class PartialTable {
  private config = -1;
  private reset = -1;
  private readonly best = new Map<string, Partial>();
  /** Changes whenever what the table holds does (a merge of unchanged partials is skipped). */
  version = 0;

  /** Starts over for a config (and its last reset). */
  use(config: number, reset: number): void {
    if (config !== this.config) this.best.clear();
    this.config = config;
    this.reset = Math.max(reset, -1);
    this.version++;
  }

  resetAt(reset: number): void {
    this.reset = Math.max(this.reset, reset);
    this.version++;
  }

  get currentReset(): number {
    return this.reset;
  }

  /** Takes a partial if it is newer than what the table holds for its partition. */
  offer(p: Partial): void {
    const m = p.meta;
    if (m.config !== this.config) return;
    const k = `${m.topic}|${m.partition}`;
    const have = this.best.get(k);
    if (have && !newer(m, have.meta)) return;
    this.best.set(k, p);
    this.version++;
  }

  /** The newest partial of one partition, if any. */
  get(topic: string, partition: number): Partial | undefined {
    return this.best.get(`${topic}|${partition}`);
  }

  /** Whether a partial's counts still count (not from before the last reset). */
  current(p: Partial): boolean {
    return p.meta.reset >= this.reset;
  }

  /** Every partition's newest partial of a data topic. */
  ofTopic(topic: string): Partial[] {
    return [...this.best.values()].filter((p) => p.meta.topic === topic);
  }
}

function newer(a: PartialMeta, b: PartialMeta): boolean {
  if (a.reset !== b.reset) return a.reset > b.reset;
  const ao = BigInt(a.offset);
  const bo = BigInt(b.offset);
  if (ao !== bo) return ao > bo;
  return a.takenAt >= b.takenAt;
}
