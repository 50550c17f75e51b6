// The Kafka door's /metrics: its counters, and gauges of the group share, the last checkpoint and the readers.
import type { MetricSample } from "../catalog/index.ts";
import type { TopicReader } from "./topic-reader.ts";

export interface ServiceCounters {
  commands: number;
  /** Events in the decoded messages of the data topics (before start/stop and source filters). */
  events: number;
  undecodableCommands: number;
  malformedEvents: number;
  foreignEvents: number;
  publishes: number;
  heartbeats: number;
  checkpoints: number;
  checkpointErrors: number;
  /** Time the readers stood paused for checkpoint cuts, in ms. */
  checkpointPauseMs: number;
  partialsPublished: number;
  partialErrors: number;
}

/** The last checkpoint written: when, how long the cut held the readers and the write took (ms), its size. */
export interface CheckpointInfo {
  at: number;
  cutMs: number;
  writeMs: number;
  bytes: number;
}

/** What /metrics shows of a running Kafka door. */
export interface KafkaDoorState {
  counters: ServiceCounters;
  /** Group mode: this instance's share of each data topic, and whether it publishes the merged histograms. */
  group: { topic: string; partitions: number; publishing: boolean }[] | undefined;
  /** With --state-dir. */
  durable: boolean;
  lastCheckpoint: CheckpointInfo | undefined;
  /** The running config's data topic readers. */
  readers: TopicReader[];
  /** How late the last periodic publish round was, if any. */
  publishLatenessMs: number | undefined;
}

export function kafkaDoorMetrics(s: KafkaDoorState): MetricSample[] {
  const c = s.counters;
  const counter = (
    name: string,
    help: string,
    value: number,
    labels?: Record<string, string>,
  ): MetricSample => ({
    name: `histd_kafka_${name}`,
    help,
    type: "counter",
    value,
    ...(labels ? { labels } : {}),
  });
  const out = [
    counter("commands_total", "Commands read from the config topic.", c.commands),
    counter("events_total", "Events in the decoded messages of the data topics.", c.events),
    counter(
      "undecodable_commands_total",
      "Config-topic messages that were not valid commands.",
      c.undecodableCommands,
    ),
    counter("decode_errors_total", "Malformed messages on data topics.", c.malformedEvents),
    counter("foreign_messages_total", "Messages of another schema on data topics.", c.foreignEvents),
    counter("publishes_total", "Histograms published.", c.publishes),
    counter("heartbeats_total", "Heartbeats published.", c.heartbeats),
  ];
  if (s.group) {
    out.push(
      counter(
        "partials_published_total",
        "Partial histograms published to the partials topic.",
        c.partialsPublished,
      ),
    );
    out.push(counter("partial_errors_total", "Failed publishes of partials.", c.partialErrors));
    for (const t of s.group) {
      const labels = { topic: t.topic };
      out.push({
        name: "histd_kafka_group_partitions",
        help: "Partitions of a data topic this instance counts (its share of the consumer group).",
        type: "gauge",
        labels,
        value: t.partitions,
      });
      out.push({
        name: "histd_kafka_group_publishing",
        help: "1 where this instance publishes the merged histograms of a data topic.",
        type: "gauge",
        labels,
        value: t.publishing ? 1 : 0,
      });
    }
  }
  if (s.durable) {
    out.push(counter("checkpoints_total", "Checkpoints written to the state directory.", c.checkpoints));
    out.push(
      counter(
        "checkpoint_errors_total",
        "Checkpoints that failed (the previous one kept).",
        c.checkpointErrors,
      ),
    );
    out.push(
      counter(
        "checkpoint_pause_seconds_total",
        "Time the readers stood paused for checkpoint cuts.",
        c.checkpointPauseMs / 1000,
      ),
    );
    const last = s.lastCheckpoint;
    if (last) {
      const gauge = (name: string, help: string, value: number): MetricSample => ({
        name: `histd_kafka_${name}`,
        help,
        type: "gauge",
        value,
      });
      out.push(
        gauge("checkpoint_timestamp_seconds", "When the last checkpoint was written.", last.at / 1000),
      );
      out.push(gauge("checkpoint_bytes", "Size of the last checkpoint.", last.bytes));
      out.push(
        gauge(
          "checkpoint_pause_seconds",
          "How long the last checkpoint held consumption.",
          last.cutMs / 1000,
        ),
      );
      out.push(
        gauge("checkpoint_write_seconds", "How long writing the last checkpoint took.", last.writeMs / 1000),
      );
    }
  }
  for (const r of s.readers) {
    const labels = { topic: r.topic };
    out.push(counter("messages_total", "Messages read from a data topic.", r.stats.messages, labels));
    out.push(counter("fetch_errors_total", "Failed fetches from a data topic.", r.stats.fetchErrors, labels));
    out.push(counter("bytes_total", "Message bytes read from a data topic.", r.stats.bytes, labels));
  }
  if (s.publishLatenessMs !== undefined)
    out.push({
      name: "histd_kafka_publish_lateness_seconds",
      help: "How late the last periodic publish was handed to the producer after its 500 ms tick.",
      type: "gauge",
      value: s.publishLatenessMs / 1000,
    });
  for (const reader of s.readers)
    for (const [partition, lag] of reader.lag)
      out.push({
        name: "histd_kafka_consumer_lag",
        help: "Messages a data topic's partition is ahead of histd (at the last fetch).",
        type: "gauge",
        labels: { topic: reader.topic, partition: String(partition) },
        value: lag,
      });
  return out;
}
