// The gRPC server: the seed's protocol (/Histogrammer), the later HaaS protocol (/HistogrammerService) and
// histd.v1.Histd on one port, messages up to 512 MiB, gzip-compressed requests accepted.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Histogram } from "../engine/index.ts";
import { createContext, type ServerContext } from "./context.ts";
import { haasHandlers } from "./haas-service.ts";
import type { Logger } from "./log.ts";
import { Registry } from "./registry.ts";
import { seedHandlers } from "./seed-service.ts";
import { v1Handlers } from "./v1-service.ts";

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
  /** Largest message received or sent (default 512 MiB, as the seed). */
  maxMessageBytes?: number;
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
    registry: new Registry(opts.maxHistograms, opts.maxBytes),
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
  if (opts.seedHistogram) {
    const entry = ctx.registry.add(opts.seedHistogram, "", "default");
    server.addService(seed.service, seedHandlers(ctx, entry));
  }
  server.addService(haas.service, haasHandlers(ctx));
  server.addService(v1.service, v1Handlers(ctx));
  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { cert_chain: readFileSync(opts.tls.cert), private_key: readFileSync(opts.tls.key) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const host = opts.host ?? "[::]";
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, creds, (err, p) => (err ? rej(err) : res(p))),
  );
  return {
    server,
    port,
    ctx,
    close: () =>
      new Promise<void>((res) => {
        server.tryShutdown(() => res());
        setTimeout(() => {
          server.forceShutdown();
          res();
        }, 2000).unref();
      }),
  };
}
