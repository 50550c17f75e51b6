// The gRPC server: the seed's protocol (/Histogrammer), the later HaaS protocol (/HistogrammerService) and
// histd.v1.Histd on one port, messages up to 512 MiB, gzip-compressed requests accepted.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Catalog, MetricSample } from "../catalog/index.ts";
import { DEFAULT_LIMITS, type Histogram } from "../engine/index.ts";
import type { DurableState } from "../state/durable.ts";
import { createContext, type ServerContext, type Stats } from "./context.ts";
import { haasHandlers } from "./haas-service.ts";
import type { Logger } from "./log.ts";
import { Registry } from "./registry.ts";
import { seedHandlers } from "./seed-service.ts";
import { applyLoggedFill, v1Handlers } from "./v1-service.ts";

export const PROTO_DIR = resolve(import.meta.dirname, "../../proto");
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export function loadProto(file: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS));
}

type ServiceCtor = grpc.ServiceClientConstructor;

export function services(): { seed: ServiceCtor; haas: ServiceCtor; v1: ServiceCtor } {
  const seed = loadProto("seed.proto").Histogrammer as ServiceCtor;
  const haas = loadProto("haas.proto").HistogrammerService as ServiceCtor;
  const v1 = ((loadProto("histd/v1/histd.proto").histd as grpc.GrpcObject).v1 as grpc.GrpcObject)
    .Histd as ServiceCtor;
  return { seed, haas, v1 };
}

export interface ServeOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** The seed's one histogram (--hist-ir); also registered for histd.v1 as id "default". */
  seedHistogram?: Histogram;
  outputDir?: string;
  tokens?: Set<string>;
  tls?: { cert: string; key: string };
  maxHistograms?: number;
  maxBytes?: number;
  /** Most cells one histogram may have (--max-cells; default the engine's 2^31). */
  maxCells?: number;
  /** Most histograms one bearer token (or the anonymous caller) may hold (--max-histograms-per-token). */
  maxHistogramsPerToken?: number;
  /** Largest message received or sent (default 512 MiB, as the seed). */
  maxMessageBytes?: number;
  /** Publish every histogram, the door's metrics and its readiness here (the dashboard and HTTP API). */
  catalog?: Catalog;
  /** Checkpoints (and a write-ahead log): restored before the server listens, closed (last checkpoint) by close(). */
  state?: DurableState;
}

export interface RunningServer {
  server: grpc.Server;
  port: number;
  ctx: ServerContext;
  close(): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const ctx = createContext({
    log: opts.log,
    outputDir: opts.outputDir,
    tokens: opts.tokens,
    registry: new Registry(opts.maxHistograms, opts.maxBytes, opts.catalog),
    durable: opts.state,
    limits: {
      maxCells: opts.maxCells ?? DEFAULT_LIMITS.maxCells,
      maxHistogramsPerToken: opts.maxHistogramsPerToken ?? Number.POSITIVE_INFINITY,
    },
  });
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
  });
  const { seed, haas, v1 } = services();
  // Time protobuf decoding of requests, so Stats can report the server's whole cost of a fill.
  for (const svc of [seed.service, haas.service, v1.service])
    for (const def of Object.values(svc)) {
      const decode = def.requestDeserialize;
      def.requestDeserialize = (buf: Buffer) => {
        const t0 = performance.now();
        try {
          return decode(buf);
        } finally {
          ctx.stats.decodeSeconds += (performance.now() - t0) / 1000;
        }
      };
    }
  if (opts.state) await opts.state.restore(ctx.registry);
  if (opts.seedHistogram) {
    // A restored "default" (--state-dir) is kept; otherwise the --hist-ir histogram is registered.
    const entry = ctx.registry.has("default", "")
      ? ctx.registry.get("default", "")
      : ctx.registry.add(opts.seedHistogram, "", "default");
    server.addService(seed.service, seedHandlers(ctx, entry));
  }
  if (opts.state) {
    const fill = v1.service.Fill;
    await opts.state.replay(ctx.registry, (entry, payload) =>
      applyLoggedFill(ctx, entry, fill.requestDeserialize(Buffer.from(payload)) as never),
    );
    opts.state.start(ctx.registry);
  }
  server.addService(haas.service, haasHandlers(ctx));
  server.addService(
    v1.service,
    v1Handlers(ctx, (f) => v1.service.Fill.requestSerialize(f)),
  );
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { cert_chain: readFileSync(opts.tls.cert), private_key: readFileSync(opts.tls.key) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const host = opts.host ?? "[::]";
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, creds, (err, p) => (err ? rej(err) : res(p))),
  );
  const catalog = opts.catalog;
  const collect = () => [...grpcMetrics(ctx.stats), ...(opts.state ? stateMetrics(opts.state) : [])];
  if (catalog) {
    catalog.collectors.add(collect);
    catalog.readiness.set("grpc", () => true);
  }
  return {
    server,
    port,
    ctx,
    close: () =>
      new Promise<void>((res) => {
        catalog?.collectors.delete(collect);
        catalog?.readiness.delete("grpc");
        let closing: Promise<void> | undefined;
        const closeState = () => {
          closing ??= opts.state?.close().catch(() => undefined);
          return closing;
        };
        server.tryShutdown(() => Promise.resolve(closeState()).then(() => res()));
        setTimeout(() => {
          server.forceShutdown();
          Promise.resolve(closeState()).then(() => res());
        }, 2000).unref();
      }),
  };
}

/** The gRPC door's counters as metric samples. */
export function grpcMetrics(stats: Stats): MetricSample[] {
  const door = { door: "grpc" };
  const out: MetricSample[] = [
    {
      name: "histd_fills_total",
      help: "Fill requests applied",
      type: "counter",
      labels: door,
      value: stats.fills,
    },
    {
      name: "histd_events_total",
      help: "Entries filled",
      type: "counter",
      labels: door,
      value: stats.entries,
    },
    {
      name: "histd_received_bytes_total",
      help: "Bytes of fill data received",
      type: "counter",
      labels: door,
      value: stats.receivedBytes,
    },
    {
      name: "histd_decode_seconds_total",
      help: "Seconds spent decoding requests",
      type: "counter",
      labels: door,
      value: stats.decodeSeconds,
    },
    {
      name: "histd_fill_seconds_total",
      help: "Seconds spent filling",
      type: "counter",
      labels: door,
      value: stats.fillSeconds,
    },
  ];
  let errors = 0;
  for (const [k, n] of stats.rpcs) {
    const [method, status] = k.split("\t");
    out.push({
      name: "histd_rpcs_total",
      help: "gRPC calls by method and status",
      type: "counter",
      labels: { method, status },
      value: n,
    });
    if (status === "INVALID_ARGUMENT") errors += n;
  }
  out.push({
    name: "histd_decode_errors_total",
    help: "Messages that could not be decoded or were invalid",
    type: "counter",
    labels: door,
    value: errors,
  });
  out.push({
    name: "histd_messages_total",
    help: "Messages received",
    type: "counter",
    labels: door,
    value: [...stats.rpcs.values()].reduce((a, b) => a + b, 0),
  });
  return out;
}

/** Checkpoint and write-ahead-log counters as metric samples. */
export function stateMetrics(state: DurableState): MetricSample[] {
  const c = state.counters;
  const door = { door: "grpc" };
  const m = (name: string, help: string, type: "counter" | "gauge", value: number): MetricSample => ({
    name,
    help,
    type,
    labels: door,
    value,
  });
  return [
    m("histd_checkpoints_total", "Checkpoint rounds that wrote histograms", "counter", c.checkpoints),
    m("histd_checkpoint_failures_total", "Checkpoint writes that failed", "counter", c.checkpointFailures),
    m("histd_checkpoint_seconds", "Duration of the last checkpoint round", "gauge", c.lastCheckpointSeconds),
    m("histd_checkpoint_bytes", "Bytes written by the last checkpoint round", "gauge", c.lastCheckpointBytes),
    m("histd_wal_records_total", "Records appended to the write-ahead log", "counter", c.walRecords),
    m("histd_wal_failures_total", "Write-ahead-log appends that failed", "counter", c.walFailures),
  ];
}
