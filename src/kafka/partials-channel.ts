// Group mode (--group): this instance's end of the partials topic. It creates the topic, reads it from its start into
// the PartialTable (every partition's newest partial, and the group's command state) and keeps following it,
// publishes this instance's partials in rounds spaced by their cost, and holds the membership over the config topic
// that decides which instance answers commands.
import { hostname } from "node:os";
import { Admin, type ConnectionOptions, Consumer, Producer } from "@platformatic/kafka";
import type { Logger } from "./log.ts";
import {
  COMMANDS_KEY,
  type CommandState,
  decodeRecord,
  encodeCommands,
  encodePartial,
  type Partial,
  type PartialMeta,
  PartialTable,
  partialKey,
} from "./partials.ts";
import type { ScaledTopic } from "./scale-out.ts";
import { CostSpacing } from "./spacing.ts";
import { TopicReader } from "./topic-reader.ts";

export interface PartialsChannelOptions {
  brokers: string[];
  connection: ConnectionOptions;
  group: string;
  /** Default `histd-partials.GROUP`. */
  topic?: string | undefined;
  configTopic: string;
  log: Logger;
  /** Counters the channel adds to (the service's /metrics). */
  counters: { partialsPublished: number; partialErrors: number; malformedEvents: number };
}

/** What every partial of a round shares: the config, the last reset and command this instance handled. */
export type RoundBase = Pick<PartialMeta, "config" | "reset" | "command">;

export class PartialsChannel {
  readonly topic: string;
  readonly table = new PartialTable();
  readonly instance = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  /** The newest command state on the topic (or recorded here). */
  commands: CommandState | undefined;
  /** This instance holds partition 0 of the config topic in the group: it answers commands (ACK/ERR), so a client
   * gets one response, not one per instance. */
  responder = false;
  private readonly o: PartialsChannelOptions;
  private readonly reader: TopicReader;
  private readonly producer: Producer;
  private readonly member: Consumer;
  private inFlight: Promise<void> | undefined;
  /** At most 5% of the time on partial rounds while there is data to read; 25% once every partition is caught up
   * (the time is then the instance's own: the merged histograms should not wait for a slow round). */
  private readonly busy = new CostSpacing(0.05);
  private readonly caughtUp = new CostSpacing(0.25);
  private closed = false;

  private constructor(o: PartialsChannelOptions) {
    this.o = o;
    this.topic = o.topic ?? `histd-partials.${o.group}`;
    const own = `|${this.instance}`;
    this.reader = new TopicReader({
      brokers: o.brokers,
      connection: o.connection,
      topic: this.topic,
      log: o.log,
      onRecord: (value, _ts, _partition, _offset, key) => {
        // This instance's own partials went into the table when they were sent: not decoded again.
        if (key && key.length > own.length && key.toString("latin1").endsWith(own)) return;
        let r: ReturnType<typeof decodeRecord>;
        try {
          r = decodeRecord(value);
        } catch {
          o.counters.malformedEvents++;
          return;
        }
        if ("kind" in r) {
          if (!this.commands || handledUpTo(r) >= handledUpTo(this.commands)) this.commands = r;
        } else this.table.offer(r);
      },
    });
    this.producer = new Producer({
      clientId: "histd-partials",
      bootstrapBrokers: o.brokers,
      ...o.connection,
      acks: -1,
      // (Partials come compressed: encodePartial.)
      compression: "none",
      retries: 5,
      timeout: 30_000,
    });
    this.member = new Consumer({
      clientId: "histd",
      groupId: o.group,
      bootstrapBrokers: o.brokers,
      ...o.connection,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      retries: 5,
      retryDelay: 500,
    });
    this.member.on("consumer:group:join", (p) => {
      this.responder = (p.assignments ?? []).some(
        (a) => a.topic === o.configTopic && a.partitions.includes(0),
      );
    });
    this.member.on("error", (e: unknown) => {
      if (!this.closed) o.log.warning(`Group ${o.group}: ${e instanceof Error ? e.message : e}`);
    });
  }

  /** Creates the topic if needed, joins the group over the config topic and reads the topic to its end. */
  static async open(o: PartialsChannelOptions): Promise<PartialsChannel> {
    const ch = new PartialsChannel(o);
    await ch.createTopic();
    ch.member.topics.trackAll(o.configTopic);
    await ch.member.joinGroup({ sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
    await ch.reader.seekToBeginning();
    ch.reader.start();
    await ch.reader.syncToEnd();
    o.log.info(`Group ${o.group}: instance ${ch.instance}, partials on ${ch.topic}`);
    return ch;
  }

  private async createTopic(): Promise<void> {
    const admin = new Admin({
      clientId: "histd-group",
      bootstrapBrokers: this.o.brokers,
      ...this.o.connection,
    });
    try {
      if ((await admin.listTopics()).includes(this.topic)) return;
      await admin
        .createTopics({
          topics: [this.topic],
          partitions: 1,
          replicas: -1,
          configs: [
            { name: "cleanup.policy", value: "compact" },
            { name: "max.message.bytes", value: String(64 << 20) },
          ],
        })
        .catch(async (e: unknown) => {
          // Another instance may have created it meanwhile.
          if (!(await admin.listTopics()).includes(this.topic)) throw e;
        });
    } finally {
      await admin.close().catch(() => {});
    }
  }

  /** Resolves once everything on the topic when called has been read into the table. */
  syncToEnd(): Promise<void> {
    return this.reader.syncToEnd();
  }

  /** Whether a periodic round is due (none in flight, and the spacing after the last one has passed). */
  due(caughtUp: boolean): boolean {
    return !this.inFlight && (caughtUp ? this.caughtUp : this.busy).due();
  }

  /** Publishes the partials of every partition the topics count here (unchanged ones are skipped); one round at a
   * time: a round that takes longer than the interval is not stacked on. */
  async publish(topics: ScaledTopic[], base: RoundBase): Promise<void> {
    while (this.inFlight) await this.inFlight;
    const round = this.round(topics, base);
    this.inFlight = round;
    try {
      await round;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async round(topics: ScaledTopic[], base: RoundBase): Promise<void> {
    if (topics.length === 0) return;
    // The spacing counts this thread's work (copy, encoding, compression), not the wait for the broker: a round
    // that waited out a broker restart must not hold back the next one.
    const t0 = performance.now();
    const meta = {
      kind: "histd-partial" as const,
      seq: 0,
      ...base,
      instance: this.instance,
      takenAt: Date.now(),
    };
    const all: Partial[] = topics.flatMap((t) => t.partials(meta));
    if (all.length === 0) return;
    const messages = all.map((p) => ({
      topic: this.topic,
      key: Buffer.from(partialKey(p.meta)),
      value: encodePartial(p),
    }));
    const cost = performance.now() - t0;
    this.busy.ran(cost);
    this.caughtUp.ran(cost);
    try {
      await this.producer.send({ messages });
      this.o.counters.partialsPublished += all.length;
      // Our own partials count at once (the reader skips them).
      for (const p of all) this.table.offer(p);
    } catch (e) {
      this.o.counters.partialErrors++;
      for (const t of topics) t.forgetSent();
      this.o.log.error(`Group: could not publish partials: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Records the group's command state (how far the config topic has been handled, the running config). */
  async recordCommands(c: CommandState): Promise<void> {
    this.commands = c;
    await this.producer
      .send({ messages: [{ topic: this.topic, key: Buffer.from(COMMANDS_KEY), value: encodeCommands(c) }] })
      .catch((e: unknown) =>
        this.o.log.error(`Group: could not record the command state: ${e instanceof Error ? e.message : e}`),
      );
  }

  /** Stops reading, leaves the group (its config-topic partition moves to another instance), closes the clients. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reader.close();
    await new Promise<void>((ok) => this.member.leaveGroup(false, () => ok()));
    await this.member.close(true).catch(() => {});
    await this.producer.close().catch(() => {});
  }
}

/** How far a command state says the config topic was handled. */
function handledUpTo(c: CommandState): bigint {
  return BigInt(Object.values(c.configOffsets)[0] ?? "0");
}
