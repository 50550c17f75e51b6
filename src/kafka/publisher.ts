// hs00 / hs01 output exactly as just-bin-it's serialise_hs00/01 writes it (just-bin-it.md §4.2): source
// "just-bin-it", timestamp = publish time in ns, dim_metadata with empty unit and label, no errors; int64 data
// becomes ArrayULong (hs00) or ArrayLong (hs01), float64 ArrayDouble. Producing is asynchronous and never awaited
// on the consume path: each output topic has at most one send in flight and a newer snapshot replaces a
// queued one, so a slow broker or a large histogram cannot stall consumption.
import type { Producer } from "@platformatic/kafka";
import { encodeHs00, encodeHs01 } from "../formats/flatbuffers/index.ts";
import type { OutputSchema } from "./config-commands.ts";
import type { Edges, HistogramView } from "./histograms.ts";
import type { Logger } from "./log.ts";

type Dim = { length: number; unit: string; label: string; binBoundaries: never };

function toInt(data: Float64Array, signed: boolean): BigInt64Array | BigUint64Array {
  const out = signed ? new BigInt64Array(data.length) : new BigUint64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]);
  return out;
}

function edgesFor(e: Edges, signed: boolean): Float64Array | BigInt64Array | BigUint64Array {
  if (e instanceof Float64Array || signed) return e;
  return new BigUint64Array(e.buffer, e.byteOffset, e.length);
}

/** Serialises a histogram view as just-bin-it does. */
export function encodeHistogramMessage(
  schema: OutputSchema,
  view: HistogramView,
  info: string,
  timestampNs: bigint,
): Uint8Array {
  const signed = schema === "hs01";
  const dimMetadata = view.shape.map((length, i) => ({
    length,
    unit: "",
    label: "",
    binBoundaries: edgesFor(view.edges[i], signed),
  })) as unknown as Dim[];
  const data = view.intData ? toInt(view.data, signed) : view.data;
  const msg = {
    source: "just-bin-it",
    timestamp: timestampNs,
    currentShape: view.shape,
    dimMetadata,
    data,
    info,
  };
  return signed ? encodeHs01(msg as never) : encodeHs00(msg as never);
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor((performance.now() % 1) * 1e6));
}

interface Pending {
  bytes: Uint8Array;
  resolve: () => void;
}

/** One output topic on one producer: at most one send in flight, the newest snapshot wins. */
export class TopicSink {
  private inFlight = false;
  private queued: Pending[] = [];
  sent = 0;
  failed = 0;
  private readonly producer: Producer;
  readonly topic: string;
  private readonly log: Logger;
  constructor(producer: Producer, topic: string, log: Logger) {
    this.producer = producer;
    this.topic = topic;
    this.log = log;
  }

  /**
   * Queues a message. `keep` marks one that must not be replaced by a later snapshot (the final FINISHED or
   * ERROR publish). Resolves when the message was sent or dropped.
   */
  send(bytes: Uint8Array, keep = false): Promise<void> {
    return new Promise((resolve) => {
      // A periodic snapshot still waiting is superseded by this newer one.
      const last = this.queued.at(-1);
      if (last && !(last as Pending & { keep?: boolean }).keep) {
        this.queued.pop();
        last.resolve();
      }
      const p: Pending & { keep?: boolean } = { bytes, resolve, keep };
      this.queued.push(p);
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight) return;
    const next = this.queued.shift();
    if (!next) return;
    this.inFlight = true;
    const value = Buffer.from(next.bytes.buffer, next.bytes.byteOffset, next.bytes.byteLength);
    this.producer
      .send({ messages: [{ topic: this.topic, value }] })
      .then(
        () => {
          this.sent++;
        },
        (e: unknown) => {
          this.failed++;
          this.log.error(
            `Could not publish histogram to ${this.topic}: ${e instanceof Error ? e.message : e}`,
          );
        },
      )
      .finally(() => {
        this.inFlight = false;
        next.resolve();
        this.pump();
      });
  }
}
