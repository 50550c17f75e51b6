// The just-bin-it service: the config topic, commands, one reader per data topic shared by every histogram on
// it, periodic and final publishing, ACK/ERR responses, heartbeat, Graphite and simulation.
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { Admin, type ConnectionOptions, Producer } from "@platformatic/kafka";
import type { Catalog, CatalogEntry, MetricSample } from "../catalog/index.ts";
import { decodeEvents, type EventMessage } from "../formats/flatbuffers/index.ts";
import { catalogKafkaJob } from "./catalog.ts";
import {
  type KafkaCheckpoint,
  type KafkaCheckpointMeta,
  loadKafkaCheckpoint,
  offsetsFromRecord,
  offsetsToRecord,
  saveKafkaCheckpoint,
} from "./checkpoint.ts";
import {
  CommandError,
  type ConfigCommand,
  type ConfigLimits,
  checkConfigLimits,
  DEFAULT_CONFIG_LIMITS,
  type HistogramSpec,
  type InputSchema,
  type OutputSchema,
  type PyJson,
  parseCommand,
  parseCommandJson,
  plain,
  truthy,
} from "./config-commands.ts";
import { type Batch, FillPool } from "./fill-pool.ts";
import { GraphiteSender, loadGraphiteConfig } from "./graphite.ts";
import { heartbeatMessage, untilAligned } from "./heartbeat.ts";
import { createHistogram, type HistogramView, type Ids } from "./histograms.ts";
import { HistogramState } from "./info.ts";
import { createLogger, type Logger } from "./log.ts";
import { type CheckpointInfo, kafkaDoorMetrics, type ServiceCounters } from "./metrics.ts";
import type { ServiceOptions } from "./options.ts";
import type { CommandState, Partial } from "./partials.ts";
import { PartialsChannel } from "./partials-channel.ts";
import { encodeHistogramMessage, nowNs, TopicSink } from "./publisher.ts";
import { ScaledTopic } from "./scale-out.ts";
import { connectionOptions } from "./security.ts";
import { simulate } from "./simulation.ts";
import { CostSpacing } from "./spacing.ts";
import { TopicReader } from "./topic-reader.ts";

export const PUBLISH_INTERVAL_MS = 500;
const STOP_LEEWAY_MS = 5000;

/** A checkpoint being restored into a config. */
interface Restore {
  ckpt: KafkaCheckpoint;
  /** Data topics whose position the checkpoint holds, by reader key. */
  readers: Map<string, Map<number, bigint>>;
}

/** A command read from the config topic. */
interface PendingCommand {
  value: Buffer;
  timestampMs: number;
  /** Offset on the config topic (the id of the command in group mode). */
  offset: number;
}

/** The running config as received: what a checkpoint or the group's command state stores. */
interface Received {
  text: string;
  timestampMs: number;
  offset: number;
}

/** One histogram of the running config. */
interface Job {
  index: number;
  spec: HistogramSpec;
  state: HistogramState;
  schema: OutputSchema;
  sink: TopicSink | undefined;
  /** INITIALISED has been published (the reader is positioned). */
  live: boolean;
  /** FINISHED or ERROR has been published; nothing more. */
  done: boolean;
  group: Group | undefined;
  sim?: NodeJS.Timeout;
  /** This histogram's index in the fill workers' config (undefined: filled on the main thread). */
  slot?: number;
  /** Its entry in the process catalog (dashboard, REST), when the service has one. */
  entry?: CatalogEntry;
  /** Group mode: the data topic's group member, this histogram's index among the topic's histograms, and the
   * partials table version its counts were last merged from. */
  scaled?: { topic: ScaledTopic; k: number; merged: number };
}

/** The histograms reading one data topic. */
interface Group {
  reader: TopicReader;
  jobs: Job[];
  key: string;
  input: InputSchema;
  stop: number | undefined;
  /** The reader has been positioned (its position() is a real cut). */
  positioned: boolean;
  /** The restored position, which a checkpoint keeps until the reader is positioned there. */
  restoredAt?: Map<number, bigint> | undefined;
  /** The batch of messages being collected for the fill workers. */
  batch?: Batch | undefined;
}

const empty = new Int32Array(0);

export class Service {
  readonly opts: ServiceOptions;
  readonly log: Logger;
  readonly counters: ServiceCounters = {
    commands: 0,
    events: 0,
    undecodableCommands: 0,
    malformedEvents: 0,
    foreignEvents: 0,
    publishes: 0,
    heartbeats: 0,
    checkpoints: 0,
    checkpointErrors: 0,
    checkpointPauseMs: 0,
    partialsPublished: 0,
    partialErrors: 0,
  };
  readonly connection: ConnectionOptions;
  /** Called with every published view (one-shot plot). */
  onPublish: ((view: HistogramView, info: string, job: { id: string; topic: string }) => void) | undefined;
  /** Do not produce histograms to Kafka (one-shot plot). */
  noOutput = false;
  private jobs: Job[] = [];
  private groups: Group[] = [];
  private producers = new Map<string, Producer>();
  private sinks = new Map<string, TopicSink>();
  private mainProducer: Producer | undefined;
  private configReader: TopicReader | undefined;
  private pendingCommands: PendingCommand[] = [];
  /** The running config as received (what a checkpoint stores), and the config topic's position after every
   * command handled so far. */
  private config: Received | undefined;
  /** Group mode: the partials topic, the group members of the running config, the last reset and command. */
  private partials: PartialsChannel | undefined;
  private scaled: ScaledTopic[] = [];
  private resetId = -1;
  private lastCommand = -1;
  private configPosition = new Map<number, bigint>();
  /** Commands and checkpoint cuts run one at a time, in this chain. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private checkpointSeq = 0;
  private checkpointWriting = false;
  /** A cut pauses the readers: cuts of very large histograms are spaced to keep that under ~5% of the time (what a
   * longer gap costs is only a longer replay after a crash: the offsets are in the checkpoint). */
  private readonly checkpointSpacing = new CostSpacing(0.05);
  /** What the last checkpoint written held (see cut()). */
  private lastCut: string | undefined;
  /** The last checkpoint written: when, how long it took (cut and write), its size. */
  lastCheckpoint: CheckpointInfo | undefined;
  private closed = false;
  private timers = new Set<NodeJS.Timeout>();
  /** How late each periodic publish round was handed to the producer after its aligned tick, in ms (the last
   * 10,000 rounds; the fill workers' barrier and the encoding are included). */
  readonly publishLateness: number[] = [];
  /** When the last periodic round ended and how long its merge, layout and encoding took (ms). */
  private lastRound = { end: 0, cost: 0 };
  private graphite: GraphiteSender | undefined;
  private commandLoop: Promise<void> | undefined;
  /** Fill worker threads (0: fill on the main thread). */
  readonly fillThreads: number;
  /** --max-cells and --max-bytes. */
  readonly limits: ConfigLimits;
  private pool: FillPool | undefined;
  /** reset_counts handed to the fill workers that no publish has waited for yet. */
  private clearsPending = 0;

  /** Where the running config's histograms are shown (the HTTP door reads it); none in plain just-bin-it mode. */
  private readonly catalog: Catalog | undefined;
  private readonly collectMetrics = (): MetricSample[] => this.metrics();

  constructor(opts: ServiceOptions, log?: Logger, o: { fillThreads?: number; catalog?: Catalog } = {}) {
    this.fillThreads = o.fillThreads ?? defaultFillThreads();
    this.catalog = o.catalog;
    this.catalog?.collectors.add(this.collectMetrics);
    this.opts = opts;
    this.limits = {
      maxCells: opts.maxCells ?? DEFAULT_CONFIG_LIMITS.maxCells,
      maxBytes: opts.maxBytes ?? DEFAULT_CONFIG_LIMITS.maxBytes,
    };
    this.log = log ?? createLogger(opts.logLevel, "histd");
    if (opts.graphiteConfigFile)
      this.graphite = new GraphiteSender(loadGraphiteConfig(opts.graphiteConfigFile), this.log);
    this.connection = connectionOptions(opts);
  }

  private brokers(list: string[]): string[] {
    return list.flatMap((b) => b.split(",")).filter(Boolean);
  }

  private producer(brokers: string[]): Producer {
    const key = brokers.join(",");
    let p = this.producers.get(key);
    if (!p) {
      p = new Producer({
        clientId: "histd",
        bootstrapBrokers: brokers,
        ...this.connection,
        acks: 1,
        retries: 3,
        timeout: 30_000,
      });
      this.producers.set(key, p);
    }
    return p;
  }

  /** Whether every topic exists on the brokers (are_kafka_settings_valid, 10 s). */
  async topicsExist(brokers: string[], topics: string[], timeoutMs = 10_000): Promise<boolean> {
    const admin = new Admin({
      clientId: "histd-check",
      bootstrapBrokers: brokers,
      ...this.connection,
      retries: 0,
      timeout: timeoutMs,
    });
    try {
      const md = await Promise.race([
        admin.metadata({ topics: [] }).then(() => admin.listTopics()),
        delay(timeoutMs).then(() => undefined),
      ]);
      if (!md) return false;
      const names = new Set(md);
      return topics.every((t) => names.has(t));
    } catch {
      return false;
    } finally {
      await admin.close().catch(() => {});
    }
  }

  /** Waits for the config brokers and topic, then starts listening, publishing and the heartbeat. */
  async start(): Promise<void> {
    // Ready once the config topic is being read (start() waits for the brokers until then).
    this.catalog?.readiness.set("kafka", () => this.configReader !== undefined && !this.closed);
    const brokers = this.brokers(this.opts.brokers);
    while (!this.closed && !(await this.topicsExist(brokers, [this.opts.configTopic]))) {
      this.log.error("Could not connect to Kafka brokers or topic for configuration - will retry shortly");
      await delay(5000);
    }
    if (this.closed) return;
    // The fill workers boot (load the engine) now, not in the first config's critical path.
    // (Group mode fills each partition's histograms on this thread: partitions are what scales there.)
    if (!this.opts.simulationMode && !this.opts.group && this.fillThreads > 0)
      this.pool ??= new FillPool(this.fillThreads);
    this.mainProducer = this.producer(brokers);
    this.configReader = new TopicReader({
      brokers,
      connection: this.connection,
      topic: this.opts.configTopic,
      log: this.log,
      maxWaitMs: 100,
      onRecord: (v, timestampMs, _partition, offset) => {
        this.pendingCommands.push({ value: Buffer.from(v), timestampMs, offset });
      },
    });
    const restored = this.opts.stateDir ? await this.restore(this.opts.stateDir) : undefined;
    if (this.opts.group)
      this.partials = await PartialsChannel.open({
        brokers,
        connection: this.connection,
        group: this.opts.group,
        topic: this.opts.partialsTopic,
        configTopic: this.opts.configTopic,
        log: this.log,
        counters: this.counters,
      });
    const groupState = this.partials?.commands;
    if (groupState) {
      await this.configReader.seek();
      this.configReader.seekTo(offsetsFromRecord(groupState.configOffsets));
      this.resetId = groupState.reset;
      await this.restoreGroupConfig(groupState);
    } else if (restored) {
      // Commands sent while histd was down are handled now, in order after the restored state.
      const at = offsetsFromRecord(restored.meta.configOffsets);
      await this.configReader.seek();
      this.configReader.seekTo(at);
    } else await this.configReader.seek();
    this.configPosition = this.configReader.position();
    // The first cut records where the config topic starts, so a command sent from now on is never missed, even
    // if histd dies before it is handled.
    if (this.opts.stateDir) await this.checkpoint();
    this.configReader.start();
    this.commandLoop = this.runCommands();
    this.schedule(PUBLISH_INTERVAL_MS, (due) => this.publishAll(due));
    if (this.opts.hbTopic) this.schedule(1000, () => this.heartbeat());
    if (this.graphite) this.schedule(1000, () => this.sendGraphite());
    if (this.opts.stateDir) {
      const every = Math.max(10, (this.opts.checkpointIntervalS ?? 5) * 1000);
      const t = setInterval(() => {
        if (this.checkpointSpacing.due()) void this.checkpoint();
      }, every);
      this.timers.add(t);
    }
    if (this.partials) {
      const every = Math.max(10, (this.opts.checkpointIntervalS ?? 1) * 1000);
      const t = setInterval(() => {
        if (this.partials?.due(this.scaled.every((s) => s.reader.caughtUp))) void this.publishPartials();
      }, every);
      this.timers.add(t);
    }
    this.log.info("histd just-bin-it service started");
  }

  /** Loads the state directory's checkpoint and starts its config where it was cut. */
  private async restore(dir: string): Promise<KafkaCheckpoint | undefined> {
    mkdirSync(dir, { recursive: true });
    const bad: string[] = [];
    const ckpt = await loadKafkaCheckpoint(dir, bad);
    for (const b of bad) this.log.error(`State: skipped a checkpoint generation: ${b}`);
    if (!ckpt) return undefined;
    this.checkpointSeq = ckpt.meta.seq;
    const cfg = ckpt.meta.config;
    if (!cfg) {
      this.log.info("State: restored (no histograms were running)");
      return ckpt;
    }
    try {
      const cmd = parseCommand(parseCommandJson(Buffer.from(cfg.text)), () => cfg.timestampMs);
      if (cmd.cmd !== "config") throw new Error("the stored command is not a config");
      if (cmd.histograms.length !== ckpt.meta.jobs.length)
        throw new Error("the stored histograms do not match the stored config");
      const readers = new Map(ckpt.meta.readers.map((r) => [r.key, offsetsFromRecord(r.offsets)]));
      await this.startConfig(cmd, { offset: -1, ...cfg }, { ckpt, readers });
      this.log.info(
        `State: restored ${this.jobs.length} histogram(s) and ${readers.size} topic position(s) from a checkpoint of ${new Date(ckpt.meta.takenAt).toISOString()}`,
      );
    } catch (e) {
      this.log.error(
        `State: could not restore the checkpoint's config: ${e instanceof Error ? e.message : e}`,
      );
      await this.stopAll().catch(() => {});
    }
    return ckpt;
  }

  /** Group mode: resumes the group's running config (every instance handled its command; this one restarted). */
  private async restoreGroupConfig(c: CommandState): Promise<void> {
    if (!c.config) return;
    try {
      const at = c.config.timestampMs;
      const cmd = parseCommand(parseCommandJson(Buffer.from(c.config.text)), () => at);
      if (cmd.cmd !== "config") throw new Error("the stored command is not a config");
      this.lastCommand = c.config.offset;
      await this.startConfig(cmd, c.config);
      this.log.info(`Group: resumed the running config (command at offset ${c.config.offset})`);
    } catch (e) {
      this.log.error(`Group: could not resume the running config: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Group mode: the partials of every partition this instance counts, to the partials topic. */
  private async publishPartials(): Promise<void> {
    if (!this.partials || this.config === undefined) return;
    await this.partials.publish(this.scaled, {
      config: this.config.offset,
      reset: this.resetId,
      command: this.lastCommand,
    });
  }

  /** Group mode: records how far the config topic has been handled, and the running config, for restarts. */
  private async publishCommandState(): Promise<void> {
    await this.partials?.recordCommands({
      kind: "histd-commands",
      seq: 0,
      configOffsets: offsetsToRecord(this.configPosition),
      config: this.config,
      reset: this.resetId,
      lengths: [],
    });
  }

  /** Runs `fn` after every command and checkpoint cut queued before it. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => {});
    return run;
  }

  /**
   * Takes one consistent cut (the readers paused between two fetch responses, the fill workers drained) and writes
   * it to the state directory. A failing write is logged and counted; the previous checkpoint stays.
   */
  async checkpoint(): Promise<boolean> {
    const dir = this.opts.stateDir;
    if (!dir || this.checkpointWriting || this.closed) return false;
    this.checkpointWriting = true;
    try {
      const t0 = performance.now();
      const ckpt = await this.serially(() => this.cut());
      if (ckpt === undefined) return true; // nothing happened since the last one
      const t1 = performance.now();
      const bytes = await saveKafkaCheckpoint(dir, ckpt.ckpt);
      const t2 = performance.now();
      this.lastCut = ckpt.signature;
      this.counters.checkpoints++;
      this.lastCheckpoint = { at: Date.now(), cutMs: t1 - t0, writeMs: t2 - t1, bytes };
      return true;
    } catch (e) {
      this.counters.checkpointErrors++;
      this.log.error(
        `State: checkpoint failed (${e instanceof Error ? e.message : e}); the previous checkpoint is kept`,
      );
      return false;
    } finally {
      this.checkpointWriting = false;
    }
  }

  /** The cut, or undefined when nothing was read, handled or finished since the last checkpoint written. */
  private async cut(): Promise<{ ckpt: KafkaCheckpoint; signature: string } | undefined> {
    const groups = [...this.groups];
    const t0 = performance.now();
    await Promise.all(groups.map((g) => g.reader.pause()));
    try {
      const jobs = this.jobs;
      const readers = groups.flatMap((g) => {
        const at = g.positioned ? g.reader.position() : g.restoredAt;
        return at ? [{ key: g.key, offsets: offsetsToRecord(at) }] : [];
      });
      // Counts change only with what is read (reader positions) or handled (config position); FINISHED with done.
      const signature = JSON.stringify([
        this.config?.offset,
        this.config?.timestampMs,
        offsetsToRecord(this.configPosition),
        readers,
        jobs.map((j) => j.done),
      ]);
      if (signature === this.lastCut) return undefined;
      if (this.pool) await this.pool.barrier();
      const counts = jobs.map((j) => {
        // A finished histogram filled here no longer changes: written as it is, without a copy. (With fill workers
        // its FINISHED gather may still be on its way: gathered again below, after the barrier.)
        if (j.done && (!this.pool || j.slot === undefined)) return j.state.hist.counts;
        const c = new Float64Array(j.state.hist.counts.length);
        if (this.pool && j.slot !== undefined) this.pool.gather(j.slot, c);
        else c.set(j.state.hist.counts);
        return c;
      });
      const meta: KafkaCheckpointMeta = {
        kind: "histd-kafka",
        seq: ++this.checkpointSeq,
        lengths: counts.map((c) => c.length),
        takenAt: Date.now(),
        config: this.config,
        configOffsets: offsetsToRecord(this.configPosition),
        jobs: jobs.map((j) => ({ done: j.done, state: j.state.snapshot() })),
        readers,
      };
      return { ckpt: { meta, counts }, signature };
    } finally {
      for (const g of groups) g.reader.resume();
      const paused = performance.now() - t0;
      this.counters.checkpointPauseMs += paused;
      this.checkpointSpacing.ran(paused);
    }
  }

  /** Runs `fn` at every multiple of `period` ms of the wall clock. */
  private schedule(period: number, fn: (due: number) => void): void {
    const arm = () => {
      const wait = untilAligned(period);
      const due = Date.now() + wait;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.closed) return;
        try {
          fn(due);
        } catch (e) {
          this.log.error(`periodic task failed: ${e instanceof Error ? e.message : e}`);
        }
        arm();
      }, wait);
      this.timers.add(t);
    };
    arm();
  }

  private heartbeat(): void {
    const topic = this.opts.hbTopic;
    if (!topic || !this.mainProducer) return;
    const b = heartbeatMessage();
    this.mainProducer
      .send({ messages: [{ topic, value: Buffer.from(b.buffer, b.byteOffset, b.byteLength) }] })
      .then(
        () => {
          this.counters.heartbeats++;
        },
        (e: unknown) => this.log.error(`Could not publish heartbeat: ${e instanceof Error ? e.message : e}`),
      );
  }

  private sendGraphite(): void {
    this.graphite?.send(this.jobs.map((j) => j.state.lastStats));
  }

  private async runCommands(): Promise<void> {
    while (!this.closed) {
      await delay(100);
      if (this.pendingCommands.length === 0) continue;
      const raw = this.pendingCommands;
      this.pendingCommands = [];
      // Between two deliveries (this is a separate task) the config reader's position is exactly past `raw`.
      const position = this.configReader?.position() ?? new Map<number, bigint>();
      // Undecodable messages are dropped; of the rest only the latest is handled (one per pass).
      let latest: { msg: PyJson; cmd: PendingCommand } | undefined;
      for (const b of raw) {
        try {
          latest = { msg: parseCommandJson(b.value), cmd: b };
        } catch {
          this.counters.undecodableCommands++;
          this.log.debug("Dropped an undecodable command message");
        }
      }
      await this.serially(async () => {
        try {
          if (latest) await this.handle(latest.msg, latest.cmd);
        } catch (e) {
          this.log.error(`Command handling failed: ${e instanceof Error ? e.message : e}`);
        }
        this.configPosition = position;
        if (latest) this.lastCommand = latest.cmd.offset;
        await this.publishCommandState();
      });
    }
  }

  private respond(msgId: unknown, error?: string): void {
    const topic = this.opts.responseTopic;
    if (!topic || !this.mainProducer || this.partials?.responder === false) return;
    const body =
      error === undefined
        ? `{"msg_id": ${pyJson(msgId)}, "response": "ACK"}`
        : `{"msg_id": ${pyJson(msgId)}, "response": "ERR", "message": ${pyJson(error)}}`;
    this.mainProducer
      .send({ messages: [{ topic, value: Buffer.from(body) }] })
      .catch((e: unknown) =>
        this.log.error(`Could not send response: ${e instanceof Error ? e.message : e}`),
      );
  }

  /** Handles one decoded command message (`from`: the message as read, which a checkpoint stores). */
  async handle(msg: PyJson, from?: PendingCommand): Promise<void> {
    this.counters.commands++;
    this.log.warning(`New command received: ${JSON.stringify(plain(msg))}`);
    const isObj = typeof msg === "object" && msg !== null && !Array.isArray(msg);
    const idValue = isObj ? (msg as Record<string, PyJson>).msg_id : undefined;
    const msgId = truthy(idValue) ? plain(idValue) : undefined;
    try {
      // With durable state or in a group, "now" (an `interval`'s start) is the command's Kafka timestamp: the same
      // for every instance of a group and when the command is replayed or restored.
      const durable = this.opts.stateDir !== undefined || this.opts.group !== undefined;
      const cmd = parseCommand(msg, durable && from ? () => from.timestampMs : undefined);
      if (cmd.cmd === "config") {
        // histd's limits first: a config beyond them is refused and the running histograms keep going.
        checkConfigLimits(cmd, this.limits);
        await this.stopAll(from?.offset);
        this.resetId = -1;
        await this.startConfig(cmd, {
          text: from?.value.toString("utf8") ?? JSON.stringify(plain(msg)),
          timestampMs: from?.timestampMs ?? Date.now(),
          offset: from?.offset ?? -1,
        });
      } else if (cmd.cmd === "stop") {
        await this.stopAll(from?.offset);
      } else {
        const live = this.jobs.filter((j) => !j.done);
        for (const j of live) j.state.clear();
        if (this.partials) {
          this.resetId = from?.offset ?? this.resetId + 1;
          this.partials.table.resetAt(this.resetId);
          for (const t of this.scaled) t.clear();
          await this.publishPartials();
        }
        if (this.pool) {
          this.pool.clear(live.flatMap((j) => (j.slot === undefined ? [] : [j.slot])));
          this.clearsPending++;
        }
      }
      if (msgId !== undefined) this.respond(msgId);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.log.error(`Command failed: ${text}`);
      if (msgId !== undefined) this.respond(msgId, e instanceof CommandError ? text : text);
    }
  }

  private async startConfig(cfg: ConfigCommand, received: Received, restore?: Restore): Promise<void> {
    // Kafka checks first, per histogram (just-bin-it checks before starting each process). Not for a restored
    // config: its readers wait for a missing topic or broker instead of dropping the restored counts.
    if (!this.opts.simulationMode && !restore) {
      for (const h of cfg.histograms) {
        if (!(await this.topicsExist(this.brokers(h.dataBrokers), h.dataTopics))) {
          await this.stopAll();
          throw new CommandError("Invalid Kafka settings");
        }
      }
    }
    const jobs: Job[] = [];
    cfg.histograms.forEach((spec, index) => {
      let hist: ReturnType<typeof createHistogram>;
      try {
        hist = createHistogram(spec);
      } catch (e) {
        this.log.error(`Could not create histogram. ${e instanceof Error ? e.message : e}`);
        return;
      }
      const brokers = this.brokers(spec.dataBrokers);
      const key = `${brokers.join(",")}|${spec.topic}`;
      let sink = this.sinks.get(key);
      if (!sink && !this.noOutput) {
        sink = new TopicSink(this.producer(brokers), spec.topic, this.log);
        this.sinks.set(key, sink);
      }
      const state = new HistogramState(hist, cfg.start, cfg.stop);
      state.startText = cfg.badStart?.text;
      state.stopText = cfg.badStop?.text;
      jobs.push({
        index,
        spec,
        state,
        schema: cfg.outputSchema,
        sink,
        live: false,
        done: false,
        group: undefined,
      });
    });
    this.jobs = jobs;
    this.config = received;
    if (restore) {
      const snaps = restore.ckpt.meta.jobs;
      if (jobs.length !== snaps.length) throw new Error("a stored histogram can no longer be created");
      jobs.forEach((j, k) => {
        const counts = restore.ckpt.counts[k];
        if (counts.length !== j.state.hist.counts.length)
          throw new Error(`histogram ${j.spec.id}: stored counts do not fit its bins`);
        j.state.hist.counts.set(counts);
        j.state.restore(snaps[k].state);
        j.done = snaps[k].done;
      });
    }
    this.showInCatalog(jobs);
    if (this.opts.simulationMode) {
      for (const j of jobs) this.startSimulation(j);
      return;
    }
    if (this.partials) {
      this.partials.table.use(received.offset, this.resetId);
      this.startScaled(jobs, cfg, received);
      return;
    }
    if (this.fillThreads > 0 && jobs.length > 0) {
      this.pool ??= new FillPool(this.fillThreads);
      jobs.forEach((j, k) => {
        j.slot = k;
      });
      this.pool.configure(
        jobs.map((j) => j.spec),
        jobs.map((j) => j.state.hist.counts.length),
      );
      if (restore) for (const j of jobs) this.pool.seed(j.slot as number, j.state.hist.counts);
    }
    if (cfg.badStart) {
      // just-bin-it's start seek builds TopicPartition(topic, p, start), which raises on a non-integer.
      for (const j of jobs) this.fail(j, cfg.badStart.error);
      return;
    }
    // One reader per (brokers, topic): every histogram on that topic shares its reads and decodes.
    for (const [key, group] of this.byDataTopic(jobs))
      this.startGroup(key, group, cfg, received.timestampMs, restore);
  }

  /**
   * Where a config's reader starts: just-bin-it's rules (the start time, else the end of the topic). With a state
   * directory a config without a start time starts at its command's Kafka timestamp instead of "now", so a config
   * replayed after a crash, before its first checkpoint, reads exactly what it read the first time.
   */
  private async position(
    reader: TopicReader,
    cfg: ConfigCommand,
    commandMs: number,
    at?: Map<number, bigint>,
  ) {
    if (at) {
      await reader.seek();
      reader.seekTo(at);
    } else if (cfg.start === undefined && this.opts.stateDir) await reader.seekAfter(commandMs);
    else await reader.seek(cfg.start);
  }

  /** Group mode: one consumer-group member per data topic of the config; partitions counted where assigned. */
  private startScaled(jobs: Job[], cfg: ConfigCommand, received: Received): void {
    const pt = this.partials as PartialsChannel;
    for (const [key, tj] of this.byDataTopic(jobs)) {
      const spec = tj[0].spec;
      const input = cfg.inputSchema;
      const topic = new ScaledTopic({
        brokers: this.brokers(spec.dataBrokers),
        connection: this.connection,
        groupId: `${this.opts.group}.${received.offset}.${spec.dataTopics[0]}`,
        topic: spec.dataTopics[0],
        key,
        specs: tj.map((j) => j.spec),
        start: cfg.start,
        stop: cfg.stop,
        startAtMs: cfg.start ?? received.timestampMs,
        log: this.log,
        table: pt.table,
        syncPartials: () => pt.syncToEnd(),
        dispatch: (value, ts, states) => this.dispatchHere(value, ts, input, states),
      });
      tj.forEach((j, k) => {
        j.scaled = { topic, k, merged: -1 };
      });
      this.scaled.push(topic);
      topic.start().then(
        () => {
          for (const j of tj) {
            if (j.done) continue;
            j.live = true;
            void this.publish(j);
          }
        },
        (e: unknown) => this.log.error(`Group: could not join: ${e instanceof Error ? e.message : e}`),
      );
    }
  }

  /** Group mode: sets each job's histogram to the sum of its partitions' newest partials. */
  private merge(jobs: Job[]): void {
    const table = this.partials?.table;
    if (!table) return;
    for (const j of jobs) {
      const sc = j.scaled;
      if (!sc || sc.merged === table.version) continue;
      sc.merged = table.version;
      const counts = j.state.hist.counts;
      counts.fill(0);
      let pulse = j.state.lastPulseTime;
      let started = j.state.started;
      for (const p of table.ofTopic(this.keyOf(j))) {
        const info = p.meta.jobs[sc.k];
        if (info.started) started = true;
        const t = BigInt(info.lastPulseTime);
        if (t > pulse) pulse = t;
        if (!table.current(p)) continue;
        const c = p.counts[sc.k];
        if (c.length !== counts.length) continue;
        for (let i = 0; i < c.length; i++) counts[i] += c[i];
      }
      j.state.lastPulseTime = pulse;
      j.state.started = started;
    }
  }

  /** The unfinished jobs by the data topic they read (one reader, or one group member, each); a job without a
   * data topic fails as just-bin-it's does (an IndexError). */
  private byDataTopic(jobs: Job[]): Map<string, Job[]> {
    const by = new Map<string, Job[]>();
    for (const j of jobs) {
      if (j.done) continue;
      if (j.spec.dataTopics.length === 0) {
        this.fail(j, "list index out of range");
        continue;
      }
      const key = this.keyOf(j);
      by.set(key, [...(by.get(key) ?? []), j]);
    }
    return by;
  }

  /** The reader key of a job's data topic (brokers and topic). */
  private keyOf(j: Job): string {
    return `${this.brokers(j.spec.dataBrokers).join(",")}|${j.spec.dataTopics[0]}`;
  }

  /** Group mode: whether every partition of the job's topic has a partial, each satisfying `pred`. */
  private everyPartition(j: Job, pred: (p: Partial) => boolean): boolean {
    const sc = j.scaled;
    const table = this.partials?.table;
    if (!sc || !table) return false;
    const n = sc.topic.reader.partitionCount;
    const parts = table.ofTopic(this.keyOf(j));
    return n > 0 && parts.length >= n && parts.every(pred);
  }

  private startGroup(
    key: string,
    jobs: Job[],
    cfg: ConfigCommand,
    commandMs: number,
    restore?: Restore,
  ): void {
    const spec = jobs[0].spec;
    const input = cfg.inputSchema;
    const states = jobs.map((j) => j.state);
    const reader: TopicReader = new TopicReader({
      brokers: this.brokers(spec.dataBrokers),
      connection: this.connection,
      topic: spec.dataTopics[0],
      log: this.log,
      onRecord: (value, ts) => this.dispatch(value, ts, input, states, group),
      onBatchEnd: () => this.afterBatch(group),
    });
    const restoredAt = restore?.readers.get(key);
    const group: Group = { reader, jobs, key, input, stop: cfg.stop, positioned: false, restoredAt };
    for (const j of jobs) j.group = group;
    this.groups.push(group);
    this.position(reader, cfg, commandMs, restoredAt)
      .then(() => {
        group.positioned = true;
        if (jobs.every((j) => j.done)) return;
        for (const j of jobs) {
          j.live = true;
          void this.publish(j);
        }
        if (cfg.badStop) {
          // The first idle pass computes `stop + 5000` (no data has arrived yet): a TypeError, so ERROR.
          for (const j of jobs) this.fail(j, cfg.badStop.error);
          void this.closeGroup(group);
          return;
        }
        reader.start();
      })
      .catch((e: unknown) => {
        const text = e instanceof Error ? e.message : String(e);
        this.log.error(`Histogram process failed: ${text}`);
        for (const j of jobs) this.fail(j, text);
        void this.closeGroup(group);
      });
  }

  /**
   * Decodes one event message once and hands it to every histogram of its topic: filled here, or (with fill
   * workers) copied into the group's batch, whose header is decoded from the aligned copy and whose events the
   * workers fill.
   */
  private dispatch(
    value: Buffer,
    ts: number,
    input: InputSchema,
    states: HistogramState[],
    group: Group,
  ): void {
    const pool = this.pool;
    if (pool && group.jobs[0]?.slot !== undefined) {
      this.dispatchToPool(pool, value, ts, input, group);
      return;
    }
    this.dispatchHere(value, ts, input, states);
  }

  /** Decodes one event message and fills `states` with it on this thread. */
  private dispatchHere(value: Buffer, ts: number, input: InputSchema, states: HistogramState[]): void {
    let ev: EventMessage;
    try {
      ev = decodeEvents(value);
    } catch {
      this.counters.malformedEvents++;
      return;
    }
    if (ev.schema !== input) {
      this.counters.foreignEvents++;
      return;
    }
    let pulse: bigint;
    let tof: Ids;
    let det: Ids;
    if (ev.schema === "ev42") {
      pulse = ev.pulseTime;
      tof = ev.timeOfFlight;
      det = ev.detectorId;
    } else {
      if (ev.referenceTime.length === 0) {
        this.counters.malformedEvents++;
        return;
      }
      pulse = ev.referenceTime[0];
      tof = ev.timeOfFlight;
      det = ev.pixelId ?? empty;
    }
    this.counters.events += tof.length;
    for (const s of states) if (!s.finished) s.add(ts, ev.sourceName, pulse, tof, det);
  }

  private dispatchToPool(pool: FillPool, value: Buffer, ts: number, input: InputSchema, group: Group): void {
    let batch = group.batch ?? pool.newBatch();
    if (!batch.fits(value.length)) {
      pool.submit(batch, this.jobs.length);
      batch = pool.newBatch();
    }
    group.batch = batch;
    const mark = batch.mark();
    let ev: EventMessage;
    try {
      ev = decodeEvents(batch.push(value));
    } catch {
      batch.rollback(mark);
      this.counters.malformedEvents++;
      return;
    }
    if (ev.schema !== input) {
      batch.rollback(mark);
      this.counters.foreignEvents++;
      return;
    }
    let pulse: bigint;
    if (ev.schema === "ev42") pulse = ev.pulseTime;
    else {
      if (ev.referenceTime.length === 0) {
        batch.rollback(mark);
        this.counters.malformedEvents++;
        return;
      }
      pulse = ev.referenceTime[0];
    }
    this.counters.events += ev.timeOfFlight.length;
    const flags = new Array<number>(this.jobs.length).fill(0);
    let any = false;
    for (const j of group.jobs) {
      if (j.state.finished || j.slot === undefined) continue;
      if (j.state.accept(ts, ev.sourceName, pulse)) {
        flags[j.slot] = 1;
        any = true;
      }
    }
    if (!any) {
      batch.rollback(mark);
      return;
    }
    for (const f of flags) batch.fill.push(f);
  }

  private afterBatch(group: Group): Promise<void> | undefined {
    const pool = this.pool;
    if (pool && group.batch) {
      pool.submit(group.batch, this.jobs.length);
      group.batch = undefined;
    }
    for (const j of group.jobs) if (j.live && !j.done && j.state.stopExceeded) void this.finish(j);
    return pool?.room();
  }

  /** Makes the main thread's counts of `jobs` hold every message handed to the fill workers so far. */
  private async gather(jobs: Job[], wait = true): Promise<void> {
    if (this.partials) {
      this.merge(jobs);
      return;
    }
    const pool = this.pool;
    const slots = jobs.filter((j) => j.slot !== undefined);
    if (!pool || slots.length === 0) return;
    if (wait) await pool.barrier();
    for (const j of slots) pool.gather(j.slot as number, j.state.hist.counts);
  }

  private startSimulation(j: Job): void {
    j.live = true;
    this.publish(j);
    j.sim = setInterval(() => {
      const ev = simulate(j.spec);
      j.state.add(Date.now(), "simulator", nowNs(), ev.tof, ev.det);
      if (j.state.stopExceeded || (j.state.stop !== undefined && Date.now() > j.state.stop + STOP_LEEWAY_MS))
        this.finish(j);
    }, 10);
  }

  private async publish(j: Job, error?: string): Promise<void> {
    try {
      await this.gather([j]);
    } catch (e) {
      this.log.error(`Fill workers failed: ${e instanceof Error ? e.message : e}`);
    }
    return this.publishNow(j, error);
  }

  private publishNow(j: Job, error?: string): Promise<void> {
    const info = j.state.info(error);
    const view = j.state.hist.view();
    this.counters.publishes++;
    j.entry?.touch();
    this.onPublish?.(view, info, { id: j.spec.id, topic: j.spec.topic });
    // In a group only the member that leads the topic's consumer group publishes the merged histogram.
    if (!j.sink || (j.scaled && !j.scaled.topic.leader)) return Promise.resolve();
    const bytes = encodeHistogramMessage(j.schema, view, info, nowNs());
    return j.sink.send(bytes, error !== undefined || j.done);
  }

  /** The periodic publish of every live histogram, and the wall-clock end of stopped ones. */
  private publishAll(due = Date.now()): void {
    const now = Date.now();
    const jobs: Job[] = [];
    for (const j of this.jobs) {
      if (!j.live || j.done) continue;
      if (j.scaled) {
        // Group mode: FINISHED once every partition went past the stop time, or was read to its end after it.
        this.merge([j]);
        const k = j.scaled.k;
        const stop = j.state.stop;
        if (
          this.everyPartition(j, (p) => p.meta.jobs[k].stopExceeded) ||
          (stop !== undefined &&
            now > stop + STOP_LEEWAY_MS &&
            this.everyPartition(j, (p) => p.meta.caughtUp && p.meta.takenAt > stop + STOP_LEEWAY_MS))
        ) {
          j.state.stopExceeded = true;
          void this.finish(j);
          continue;
        }
        jobs.push(j);
        continue;
      }
      const idle = j.group ? j.group.reader.caughtUp : true;
      if (j.state.stop !== undefined && idle && now > j.state.stop + STOP_LEEWAY_MS) {
        void this.finish(j);
        continue;
      }
      jobs.push(j);
    }
    if (jobs.length === 0) return;
    // Histograms so large that a round (merge, layout, encoding) takes longer than the interval would leave no
    // time to count: a round is skipped until the counting since the last one has had as long as that round took.
    if (now < this.lastRound.end + this.lastRound.cost) return;
    // A periodic publish is a snapshot of the workers' partials as they are (whole counts, a consistent sum, maybe
    // part of the batch being filled): waiting for the queued batches would make it late. It waits only while a
    // reset_counts may still be queued behind batches. FINISHED and ERROR always wait (publish()): they are exact.
    // A histogram that finished meanwhile has published FINISHED itself.
    const clears = this.clearsPending;
    const t0 = Date.now();
    void this.gather(jobs, clears > 0).then(
      () => {
        this.clearsPending -= clears;
        for (const j of jobs) if (j.live && !j.done) void this.publishNow(j);
        this.lastRound = { end: Date.now(), cost: Date.now() - t0 };
        if (this.publishLateness.length >= 10_000) this.publishLateness.shift();
        this.publishLateness.push(Date.now() - due);
      },
      (e: unknown) => this.log.error(`Fill workers failed: ${e instanceof Error ? e.message : e}`),
    );
  }

  private fail(j: Job, error: string): void {
    if (j.done) return;
    j.done = true;
    j.live = false;
    void this.publish(j, error);
  }

  /** Publishes FINISHED once and stops the histogram; the reader closes when it has no histograms left. */
  private finish(j: Job): Promise<void> {
    if (j.done) return Promise.resolve();
    j.state.finished = true;
    j.done = true;
    if (j.sim) clearInterval(j.sim);
    const sent = j.live ? this.publish(j) : Promise.resolve();
    j.live = false;
    const g = j.group;
    if (g?.jobs.every((x) => x.done)) void this.closeGroup(g);
    return sent;
  }

  private async closeGroup(g: Group): Promise<void> {
    this.groups = this.groups.filter((x) => x !== g);
    await g.reader.close();
  }

  /** Stops every histogram: each publishes FINISHED once (awaited), readers are closed. */
  async stopAll(command?: number): Promise<void> {
    if (this.partials && this.scaled.length > 0) await this.settleGroup(command);
    const sends = this.jobs.map((j) => this.finish(j));
    await Promise.all(sends);
    await Promise.all(this.groups.map((g) => this.closeGroup(g)));
    await Promise.all(this.scaled.map((t) => t.close()));
    this.scaled = [];
    this.jobs = [];
    this.config = undefined;
  }

  /**
   * Group mode, before a stop: publishes this instance's last partials (marked with the stop's command offset)
   * and waits, up to 10 s, until every partition's newest partial was taken after the stop, so the FINISHED
   * histogram holds everything every instance counted.
   */
  private async settleGroup(command: number | undefined): Promise<void> {
    if (command !== undefined) this.lastCommand = command;
    await this.publishPartials();
    if (command === undefined) return;
    const end = Date.now() + 10_000;
    const live = this.jobs.filter((j) => j.scaled && !j.done && j.scaled.topic.leader);
    while (Date.now() < end && !live.every((j) => this.everyPartition(j, (p) => p.meta.command >= command)))
      await delay(50);
  }

  /** The current counts (sum) of histogram `k` of the running config, once the fill workers are done with
   * every message handed out so far (benchmarks and tests). */
  async counted(k: number): Promise<number> {
    const j = this.jobs[k];
    if (!j) return 0;
    if (!j.done) await this.gather([j]);
    return j.state.hist.sum();
  }

  /** Shows the new config's histograms in the catalog, in place of the previous config's. A finished histogram
   * stays visible until a new config replaces it, as its last published output does on Kafka. */
  private showInCatalog(jobs: Job[]): void {
    const catalog = this.catalog;
    if (!catalog) return;
    for (const e of catalog.list()) if (e.door === "kafka") catalog.remove(e);
    for (const j of jobs) j.entry = catalogKafkaJob(catalog, j);
  }

  private async checkpointWriteDone(): Promise<void> {
    while (this.checkpointWriting) await delay(10);
  }

  /** Counters and gauges for /metrics. */
  metrics(): MetricSample[] {
    return kafkaDoorMetrics({
      counters: this.counters,
      group: this.partials
        ? this.scaled.map((t) => ({
            topic: t.reader.topic,
            partitions: t.reader.partitions().length,
            publishing: t.leader,
          }))
        : undefined,
      durable: this.opts.stateDir !== undefined,
      lastCheckpoint: this.lastCheckpoint,
      readers: this.dataReaders(),
      publishLatenessMs: this.publishLateness.at(-1),
    });
  }

  /** Reader statistics per data topic (for logs and tests). */
  readerStats(): {
    topic: string;
    messages: number;
    bytes: number;
    fetchErrors: number;
    missingTopic: number;
  }[] {
    return this.dataReaders().map((r) => ({ topic: r.topic, ...r.stats }));
  }

  /** The readers of the running config's data topics (one per topic; in a group, of this instance's share). */
  private dataReaders(): TopicReader[] {
    return [...this.groups.map((g) => g.reader), ...this.scaled.map((t) => t.reader)];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.opts.stateDir) {
      // With durable state a shutdown is a pause: the last cut is written and the histograms go on after a
      // restart, instead of finishing now.
      await this.checkpointWriteDone();
      await this.checkpoint();
      this.closed = true;
      await Promise.all(this.groups.map((g) => this.closeGroup(g)));
      for (const j of this.jobs) if (j.sim) clearInterval(j.sim);
    } else if (this.partials) {
      // A group member that shuts down hands its partitions over: last partials, then leave the group.
      await this.serially(() => this.publishPartials());
      this.closed = true;
      await Promise.all(this.scaled.map((t) => t.close()));
    } else await this.stopAll().catch(() => {});
    this.closed = true;
    if (this.catalog) {
      for (const e of this.catalog.list()) if (e.door === "kafka") this.catalog.remove(e);
      this.catalog.collectors.delete(this.collectMetrics);
      this.catalog.readiness.delete("kafka");
    }
    for (const t of this.timers) clearTimeout(t);
    await this.configReader?.close();
    await this.commandLoop?.catch(() => {});
    this.graphite?.close();
    await this.pool?.close();
    await this.partials?.close();
    await Promise.all([...this.producers.values()].map((p) => p.close().catch(() => {})));
  }
}

/** Fill worker threads by default: HISTD_FILL_THREADS, else one per core (the main thread only reads Kafka, copies
 * and decodes headers; measured 18 vs 15 Mev/s steady state for 2 vs 1 workers on 2 cores, bench/kafka.bench.ts). */
function defaultFillThreads(): number {
  const env = process.env.HISTD_FILL_THREADS;
  if (env !== undefined && env !== "" && Number.isInteger(Number(env))) return Math.max(0, Number(env));
  return availableParallelism();
}

/** json.dumps of a plain value (ids are usually strings; non-ASCII escaped as Python does). */
function pyJson(v: unknown): string {
  if (typeof v === "string")
    return JSON.stringify(v).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  if (v === true) return "true";
  if (v === false) return "false";
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  if (Array.isArray(v)) return `[${v.map(pyJson).join(", ")}]`;
  return `{${Object.entries(v as object)
    .map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`)
    .join(", ")}}`;
}
