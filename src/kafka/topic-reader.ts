// One reader per data topic: every partition, no consumer group, positioned at the end or by time (just-bin-it's
// offsets_for_times rules, §2.4), fetching with the raw Fetch API so no per-message objects are built. While a
// fetch response is being histogrammed the next fetch is already on the wire. A broker that goes away, a topic
// that does not exist (yet) and failed fetches are logged, counted and retried; the loop never ends on its own.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { type ConnectionOptions, Consumer } from "@platformatic/kafka";
import type { Logger } from "./log.ts";

type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;

interface Fetched {
  responses: FetchResponse[];
  requested: Map<number, bigint>;
}

export class TooOldTimeRequested extends Error {
  constructor() {
    super(
      "Cannot find start time in the data, either the supplied time is too old or there is no data available",
    );
  }
}

export interface ReaderStats {
  messages: number;
  bytes: number;
  fetches: number;
  fetchErrors: number;
  missingTopic: number;
}

/** Called for every record: its value (a view into the fetch response), its Kafka timestamp in ms, partition,
 * offset and key. */
export type RecordHandler = (
  value: Buffer,
  timestampMs: number,
  partition: number,
  offset: number,
  key: Buffer | null,
) => void;

export interface TopicReaderOptions {
  brokers: string[];
  connection: ConnectionOptions;
  topic: string;
  log: Logger;
  onRecord: RecordHandler;
  /** Called after each fetch response has been handed over record by record. */
  onBatchEnd?: () => Promise<void> | undefined | void;
  maxWaitMs?: number;
  partitionMaxBytes?: number;
  clientId?: string;
  /** Read only the partitions given by assign() (a consumer group's share), instead of every partition. */
  assigned?: boolean;
}

/** Bytes per partition per fetch: small enough that one response is a few worker batches (the barrier before a
 * publish waits for those), large enough that the reader stays far ahead of the fills (bench/kafka.bench.ts). */
export const DEFAULT_PARTITION_MAX_BYTES = 2 << 20;

const LOG_APPEND_TIME = 0x08;
const CONTROL = 0x20;

export class TopicReader {
  readonly topic: string;
  readonly stats: ReaderStats = { messages: 0, bytes: 0, fetches: 0, fetchErrors: 0, missingTopic: 0 };
  /** True once a fetch found every partition at its high watermark (nothing more to read right now). */
  caughtUp = false;
  /** Partitions of the topic, as of the last fetch (0 before). */
  partitionCount = 0;
  /** Messages each partition is behind its high watermark, as of the last fetch (consumer lag). */
  readonly lag = new Map<number, number>();
  private readonly consumer: Consumer;
  private readonly o: TopicReaderOptions;
  private offsets = new Map<number, bigint>();
  /** Partitions whose last fetch said OFFSET_OUT_OF_RANGE. */
  private readonly outOfRange = new Set<number>();
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set while delivery is paused (a checkpoint is taking a consistent cut); resolved by resume(). */
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  /** Settles when the delivery in progress (records and onBatchEnd) is over. */
  private delivering: Promise<void> | undefined;

  constructor(o: TopicReaderOptions) {
    this.o = o;
    this.topic = o.topic;
    this.consumer = new Consumer({
      clientId: o.clientId ?? "histd",
      groupId: `histd-${randomUUID()}`,
      bootstrapBrokers: o.brokers,
      ...o.connection,
      retries: 1,
      retryDelay: 250,
      timeout: 10_000,
    });
  }

  /** Lists per-partition offsets (-1n latest, -2n earliest, else a timestamp). */
  private async listOffsets(timestamp: bigint): Promise<bigint[]> {
    const m = await this.consumer.listOffsets({ topics: [this.topic], timestamp });
    return m.get(this.topic) ?? [];
  }

  /**
   * Positions every partition: at the high watermark without `startMs`, else at the first message at or after
   * `startMs` (the high watermark when there is none), failing as just-bin-it does when that is the low watermark.
   */
  async seek(startMs?: number): Promise<void> {
    const high = await this.listOffsets(-1n);
    if (startMs === undefined) {
      for (let p = 0; p < high.length; p++) this.offsets.set(p, high[p]);
      return;
    }
    const low = await this.listOffsets(-2n);
    const byTime = await this.consumer.listOffsetsWithTimestamps({
      topics: [this.topic],
      timestamp: BigInt(Math.floor(startMs)),
    });
    const found = byTime.get(this.topic);
    for (let p = 0; p < high.length; p++) {
      let off = found?.get(p)?.offset ?? -1n;
      if (off < 0n) {
        this.o.log.warning(
          "Could not find corresponding offset for start time, so set position to latest message",
        );
        off = high[p];
      }
      if (off === low[p]) throw new TooOldTimeRequested();
      this.offsets.set(p, off);
    }
  }

  /** Positions every partition at its first message at or after `ms` (its end when there is none). */
  async seekAfter(ms: number): Promise<void> {
    for (const [p, o] of await this.offsetsAfter(ms)) this.offsets.set(p, o);
  }

  /** Per partition: the first offset at or after `ms`, or the end of the partition when there is none (and for
   * `ms` undefined). */
  async offsetsAfter(ms: number | undefined): Promise<Map<number, bigint>> {
    const high = await this.listOffsets(-1n);
    const found =
      ms === undefined
        ? undefined
        : (
            await this.consumer.listOffsetsWithTimestamps({
              topics: [this.topic],
              timestamp: BigInt(Math.floor(ms)),
            })
          ).get(this.topic);
    const out = new Map<number, bigint>();
    for (let p = 0; p < high.length; p++) {
      const off = found?.get(p)?.offset ?? -1n;
      out.set(p, off < 0n ? high[p] : off);
    }
    return out;
  }

  /** Starts reading partition `p` at `offset` (assigned mode). */
  assign(p: number, offset: bigint): void {
    this.offsets.set(p, offset);
  }

  /** Stops reading partition `p`; records of it already fetched are dropped. */
  unassign(p: number): void {
    this.offsets.delete(p);
    this.lag.delete(p);
  }

  /** The partitions being read. */
  partitions(): number[] {
    return [...this.offsets.keys()];
  }

  /** Waits until everything in the topic when called has been delivered. */
  async syncToEnd(): Promise<void> {
    const high = await this.listOffsets(-1n);
    for (;;) {
      if (this.closed) return;
      if (high.every((h, p) => (this.offsets.get(p) ?? 0n) >= h) && !this.delivering) return;
      await delay(20);
    }
  }

  /** Positions every partition at its last existing message (or its end when empty), for the viewing tools. */
  async seekLast(): Promise<void> {
    const high = await this.listOffsets(-1n);
    const low = await this.listOffsets(-2n);
    for (let p = 0; p < high.length; p++) this.offsets.set(p, high[p] > low[p] ? high[p] - 1n : high[p]);
  }

  /** Positions every partition at its log start (tools and benchmarks). */
  async seekToBeginning(): Promise<void> {
    const low = await this.listOffsets(-2n);
    for (let p = 0; p < low.length; p++) this.offsets.set(p, low[p]);
  }

  /** Positions partitions at the given offsets (a restored checkpoint); others keep the rule of fetchAll(). */
  seekTo(offsets: Map<number, bigint>): void {
    for (const [p, o] of offsets) this.offsets.set(p, o);
  }

  /**
   * Next offset per partition of everything delivered so far. Between deliveries (after pause()) this is an
   * exact cut: every record before it has been handed to onRecord and onBatchEnd, none after it.
   */
  position(): Map<number, bigint> {
    return new Map(this.offsets);
  }

  /** Waits for the delivery in progress to end and holds back further deliveries until resume(). Fetching goes
   * on (one response ahead), so a pause of a few milliseconds costs no throughput. */
  async pause(): Promise<void> {
    if (!this.gate) {
      let open: () => void = () => {};
      const promise = new Promise<void>((r) => {
        open = r;
      });
      this.gate = { promise, open };
    }
    await this.delivering;
  }

  resume(): void {
    const g = this.gate;
    this.gate = undefined;
    g?.open();
  }

  /** Starts the fetch loop (after seek). */
  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.resume();
    await this.loop?.catch(() => {});
    await this.consumer.close(true).catch(() => {});
  }

  private async sleep(ms: number): Promise<void> {
    const ac = new AbortController();
    this.wake = () => ac.abort();
    await delay(ms, undefined, { signal: ac.signal }).catch(() => {});
    this.wake = undefined;
  }

  /** Builds one fetch per leader for every partition at its next offset; returns the responses and the offset
   * each partition was fetched from. */
  private async fetchAll(): Promise<Fetched> {
    const md = await this.consumer.metadata({ topics: [this.topic] });
    const t = md.topics.get(this.topic);
    if (!t) throw Object.assign(new Error(`Requested topic ${this.topic} not available`), { missing: true });
    const byNode = new Map<number, { partition: number; fetchOffset: bigint }[]>();
    const requested = new Map<number, bigint>();
    this.partitionCount = t.partitionsCount;
    for (let p = 0; p < t.partitionsCount; p++) {
      if (!this.offsets.has(p)) {
        if (this.o.assigned) continue;
        // A partition added after the seek starts at its beginning.
        this.offsets.set(p, 0n);
      }
      requested.set(p, this.offsets.get(p) as bigint);
      const leader = t.partitions[p]?.leader ?? -1;
      let l = byNode.get(leader);
      if (!l) byNode.set(leader, (l = []));
      l.push({ partition: p, fetchOffset: this.offsets.get(p) as bigint });
    }
    const maxBytes = this.o.partitionMaxBytes ?? DEFAULT_PARTITION_MAX_BYTES;
    if (byNode.size === 0) {
      await this.sleep(100); // nothing assigned
      return { responses: [], requested };
    }
    const responses = await Promise.all(
      [...byNode].map(([node, parts]) =>
        this.consumer.fetch({
          node,
          maxWaitTime: this.o.maxWaitMs ?? 100,
          minBytes: 1,
          maxBytes: maxBytes * parts.length,
          topics: [
            {
              topicId: t.id,
              partitions: parts.map((x) => ({
                partition: x.partition,
                fetchOffset: x.fetchOffset,
                partitionMaxBytes: maxBytes,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        }),
      ),
    );
    return { responses, requested };
  }

  /** Whether a partition's data in a response continues where the reader is (not unassigned, not moved by
   * assign() or seekTo() while the fetch was in flight). */
  private current(f: Fetched, partition: number): boolean {
    const at = this.offsets.get(partition);
    return at !== undefined && f.requested.get(partition) === at;
  }

  /** Advances the offsets past what the responses hold; returns whether every partition is caught up. */
  private advance(f: Fetched): boolean {
    let caughtUp = true;
    for (const r of f.responses)
      for (const t of r.responses)
        for (const p of t.partitions) {
          if (!this.current(f, p.partitionIndex)) {
            p.records = undefined; // deliver() skips it too
            caughtUp = false;
            continue;
          }
          if (p.errorCode !== 0) {
            this.stats.fetchErrors++;
            caughtUp = false;
            // OFFSET_OUT_OF_RANGE: checked against the log's real bounds before moving (run()).
            if (p.errorCode === 1) this.outOfRange.add(p.partitionIndex);
            continue;
          }
          let next = this.offsets.get(p.partitionIndex) ?? 0n;
          for (const b of p.records ?? []) {
            const last = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
            if (last > next) next = last;
          }
          this.offsets.set(p.partitionIndex, next);
          this.lag.set(p.partitionIndex, Number(p.highWatermark > next ? p.highWatermark - next : 0n));
          if (next < p.highWatermark) caughtUp = false;
        }
    return caughtUp;
  }

  private deliver(f: Fetched, from: Map<number, bigint>): Promise<void> | undefined | void {
    const onRecord = this.o.onRecord;
    for (const r of f.responses)
      for (const t of r.responses)
        for (const p of t.partitions) {
          if (p.errorCode !== 0 || !p.records) continue;
          const start = from.get(p.partitionIndex) ?? 0n;
          for (const b of p.records) {
            if (b.attributes & CONTROL) continue;
            const logAppend = (b.attributes & LOG_APPEND_TIME) !== 0;
            const base = Number(b.firstTimestamp);
            const firstOffset = b.firstOffset;
            const skipBefore = start > firstOffset ? Number(start - firstOffset) : 0;
            for (const rec of b.records) {
              if (rec.offsetDelta < skipBefore || !rec.value) continue;
              const ts = logAppend ? Number(b.maxTimestamp) : base + Number(rec.timestampDelta);
              this.stats.messages++;
              this.stats.bytes += rec.value.length;
              onRecord(rec.value, ts, p.partitionIndex, Number(firstOffset) + rec.offsetDelta, rec.key);
            }
          }
        }
    return this.o.onBatchEnd?.();
  }

  /**
   * OFFSET_OUT_OF_RANGE is not always what it says: a broker that just restarted can answer it for an offset that
   * is in its log. Only an offset below the log start (data deleted by retention) moves the reader, to the log start,
   * with a warning; an offset inside the log or past its end is kept and fetched again, so nothing is read twice.
   */
  private async recoverRange(): Promise<void> {
    const parts = [...this.outOfRange];
    this.outOfRange.clear();
    const low = await this.listOffsets(-2n);
    for (const p of parts) {
      const at = this.offsets.get(p);
      const start = low[p];
      if (at === undefined || start === undefined || at >= start) continue;
      this.o.log.warning(
        `Topic ${this.topic}: partition ${p} lost ${start - at} message(s) to retention before they were read`,
      );
      this.offsets.set(p, start);
    }
    await this.sleep(100);
  }

  private async run(): Promise<void> {
    let pending: Promise<Fetched> | undefined;
    let failures = 0;
    while (!this.closed) {
      try {
        const fetched = await (pending ?? this.fetchAll());
        pending = undefined;
        while (this.gate && !this.closed) await this.gate.promise;
        if (this.closed) break;
        const from = new Map(this.offsets);
        this.stats.fetches++;
        const caughtUp = this.advance(fetched);
        // Pipelining: the next fetch starts before this one is histogrammed.
        if (!this.closed) {
          pending = this.fetchAll();
          pending.catch(() => {});
        }
        // The batch end may ask to wait (fill workers busy); the pipelined fetch is already on its way.
        const delivered = Promise.resolve(this.deliver(fetched, from));
        this.delivering = delivered.then(
          () => {},
          () => {},
        );
        await delivered;
        this.delivering = undefined;
        this.caughtUp = caughtUp;
        if (this.outOfRange.size > 0) await this.recoverRange();
        failures = 0;
      } catch (e) {
        pending = undefined;
        if (this.closed) break;
        failures++;
        const missing = (e as { missing?: boolean }).missing === true;
        if (missing) this.stats.missingTopic++;
        else this.stats.fetchErrors++;
        const msg = e instanceof Error ? e.message : String(e);
        if (failures === 1 || failures % 20 === 0)
          this.o.log.warning(`Topic ${this.topic}: ${missing ? msg : `fetch failed (${msg})`}; retrying`);
        this.consumer.clearMetadata();
        await this.sleep(Math.min(2000, 100 * failures));
      }
    }
  }
}
