// Scale-out (--group): one data topic of the running config, read by a member of a Kafka consumer group. The group
// decides which partitions this instance counts; each has its own histograms (one per histogram of the config), so
// its state can be published as a partial (partials.ts) and taken over by another instance at any moment.
import { type ConnectionOptions, Consumer } from "@platformatic/kafka";
import type { HistogramSpec } from "./config-commands.ts";
import { createHistogram } from "./histograms.ts";
import { HistogramState } from "./info.ts";
import type { Logger } from "./log.ts";
import type { Partial, PartialMeta, PartialTable } from "./partials.ts";
import { type RecordHandler, TopicReader } from "./topic-reader.ts";

export interface ScaledTopicOptions {
  brokers: string[];
  connection: ConnectionOptions;
  /** The consumer group (one per config and data topic). */
  groupId: string;
  /** The data topic, and the reader key partials are filed under. */
  topic: string;
  key: string;
  specs: HistogramSpec[];
  start: number | undefined;
  stop: number | undefined;
  /** Where a partition without a partial starts: its first message at or after this time (the config's start, or
   * its command's timestamp), so every instance picks the same offset. */
  startAtMs: number;
  log: Logger;
  table: PartialTable;
  /** Resolves once the partials topic has been read to its end (before taking over a partition). */
  syncPartials: () => Promise<void>;
  /** Hands one record to the histograms of its partition. */
  dispatch: (value: Buffer, timestampMs: number, states: HistogramState[]) => void;
  /** Called after every fetch response has been dispatched. */
  onBatchEnd?: () => void;
}

/** How fast a dead instance's partitions move: Kafka's minimum session timeout, heartbeats well inside it. */
const SESSION_TIMEOUT_MS = 6000;
const HEARTBEAT_MS = 500;

export class ScaledTopic {
  readonly reader: TopicReader;
  /** This instance computed the group's assignment (publishes the merged histograms). */
  leader = false;
  /** The group has assigned partitions at least once. */
  joined = false;
  private readonly member: Consumer;
  private readonly o: ScaledTopicOptions;
  private readonly parts = new Map<number, HistogramState[]>();
  /** What the last partial of each partition said (offset, reset, command): an unchanged partition is not sent
   * again. */
  private readonly sent = new Map<number, string>();
  private assigning: Promise<void> = Promise.resolve();
  /** Counts assignments: a newer one supersedes a takeover still retrying. */
  private generation = 0;
  private closed = false;

  constructor(o: ScaledTopicOptions) {
    this.o = o;
    const onRecord: RecordHandler = (value, ts, partition) => {
      const states = this.parts.get(partition);
      if (states) o.dispatch(value, ts, states);
    };
    this.reader = new TopicReader({
      brokers: o.brokers,
      connection: o.connection,
      topic: o.topic,
      log: o.log,
      assigned: true,
      onRecord,
      onBatchEnd: o.onBatchEnd,
    });
    this.member = new Consumer({
      clientId: "histd",
      groupId: o.groupId,
      bootstrapBrokers: o.brokers,
      ...o.connection,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      rebalanceTimeout: 10_000,
      retries: 5,
      retryDelay: 500,
    });
    this.member.on("consumer:group:join", (p) => {
      this.leader = p.isLeader === true;
      const mine = (p.assignments ?? []).filter((a) => a.topic === o.topic).flatMap((a) => a.partitions);
      const generation = ++this.generation;
      this.assigning = this.assigning.then(() => this.assignRetrying(mine, generation));
    });
    this.member.on("error", (e: unknown) => {
      if (!this.closed) o.log.warning(`Group ${o.groupId}: ${e instanceof Error ? e.message : e}`);
    });
  }

  /** Joins the group and starts reading what it assigns (retrying while the brokers are away). */
  async start(): Promise<void> {
    this.member.topics.trackAll(this.o.topic);
    this.reader.start();
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.member.joinGroup({
          sessionTimeout: SESSION_TIMEOUT_MS,
          heartbeatInterval: HEARTBEAT_MS,
          rebalanceTimeout: 10_000,
        });
        return;
      } catch (e) {
        if (attempt === 1 || attempt % 10 === 0)
          this.o.log.warning(
            `Group ${this.o.groupId}: join failed (${e instanceof Error ? e.message : e}); retrying`,
          );
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
  }

  /** assign(), retried while the brokers are away (a takeover reads the partials topic and offsets), until it
   * succeeds or a newer assignment replaces it. */
  private async assignRetrying(partitions: number[], generation: number): Promise<void> {
    for (let attempt = 1; !this.closed && generation === this.generation; attempt++) {
      try {
        await this.assign(partitions);
        return;
      } catch (e) {
        if (attempt === 1 || attempt % 10 === 0)
          this.o.log.error(
            `Group ${this.o.groupId}: taking over partitions failed (${e instanceof Error ? e.message : e}); retrying`,
          );
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
  }

  /** Follows a new assignment: drops partitions given away, takes over new ones from their newest partial. */
  private async assign(partitions: number[]): Promise<void> {
    const want = new Set(partitions);
    for (const p of [...this.parts.keys()])
      if (!want.has(p)) {
        this.reader.unassign(p);
        this.parts.delete(p);
        this.sent.delete(p);
      }
    const added = partitions.filter((p) => !this.parts.has(p));
    if (added.length > 0) {
      await this.o.syncPartials();
      let fresh: Map<number, bigint> | undefined;
      for (const p of added) {
        if (this.closed) return;
        const states = this.o.specs.map(
          (spec) => new HistogramState(createHistogram(spec), this.o.start, this.o.stop),
        );
        const prior = this.o.table.get(this.o.key, p);
        let offset: bigint;
        if (prior) {
          offset = BigInt(prior.meta.offset);
          const counts = this.o.table.current(prior);
          states.forEach((s, k) => {
            const j = prior.meta.jobs[k];
            if (counts) s.hist.counts.set(prior.counts[k]);
            s.started = j.started;
            s.stopExceeded = j.stopExceeded;
            s.lastPulseTime = BigInt(j.lastPulseTime);
          });
        } else {
          fresh ??= await this.reader.offsetsAfter(this.o.startAtMs);
          offset = fresh.get(p) ?? 0n;
        }
        this.parts.set(p, states);
        this.reader.assign(p, offset);
      }
    }
    this.joined = true;
    this.o.log.info(
      `Group ${this.o.groupId}: counting partitions [${[...this.parts.keys()].sort((a, b) => a - b).join(", ")}] of ${this.o.topic}${this.leader ? " (publishing)" : ""}`,
    );
  }

  /**
   * The partials of every partition counted here, as of now. Called between two deliveries (a separate task;
   * dispatch is synchronous in group mode), so each partition's counts match its offset exactly.
   */
  partials(
    base: Omit<PartialMeta, "topic" | "partition" | "offset" | "caughtUp" | "lengths" | "jobs">,
  ): Partial[] {
    const position = this.reader.position();
    const out: Partial[] = [];
    for (const [p, states] of this.parts) {
      const offset = position.get(p);
      if (offset === undefined) continue;
      const caughtUp = (this.reader.lag.get(p) ?? 1) === 0;
      // (Refreshed every 10 s even when unchanged: the stop-time rule needs partials taken after the stop.)
      const said = `${offset}|${base.reset}|${base.command}|${caughtUp}|${Math.floor(base.takenAt / 10_000)}`;
      if (this.sent.get(p) === said) continue;
      this.sent.set(p, said);
      const counts = states.map((s) => Float64Array.from(s.hist.counts));
      out.push({
        meta: {
          ...base,
          topic: this.o.key,
          partition: p,
          offset: String(offset),
          caughtUp,
          lengths: counts.map((c) => c.length),
          jobs: states.map((s) => ({
            started: s.started,
            stopExceeded: s.stopExceeded,
            lastPulseTime: String(s.lastPulseTime),
          })),
        },
        counts,
      });
    }
    return out;
  }

  /** After a failed send: every partition is sent again next time. */
  forgetSent(): void {
    this.sent.clear();
  }

  /** reset_counts for the partitions counted here. */
  clear(): void {
    for (const states of this.parts.values()) for (const s of states) s.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reader.close();
    await new Promise<void>((ok) => this.member.leaveGroup(false, () => ok()));
    await this.member.close(true).catch(() => {});
  }
}
