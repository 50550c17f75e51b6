// What every service of the server shares: the histograms, the output directory, auth, the log, and counters.
import * as grpc from "@grpc/grpc-js";
import { HistError } from "../engine/index.ts";
import { CodecError } from "../formats/codecs/index.ts";
import type { DurableState } from "../state/durable.ts";
import { RequestError } from "./arrays.ts";
import type { Logger } from "./log.ts";
import { Registry } from "./registry.ts";

export interface ServerContext {
  registry: Registry;
  outputDir: string;
  log: Logger;
  /** When set, every call needs `authorization: Bearer <one of these>`. */
  tokens?: Set<string>;
  stats: Stats;
  /** Checkpoints and write-ahead log (--state-dir), when enabled. */
  durable?: DurableState;
}

export class Stats {
  readonly started = Date.now();
  readonly rpcs = new Map<string, number>();
  fills = 0;
  entries = 0;
  receivedBytes = 0;
  /** Seconds spent decoding request messages (protobuf) and in fill handlers (array decoding + binning). */
  decodeSeconds = 0;
  fillSeconds = 0;

  count(method: string, status: string): void {
    const k = `${method}\t${status}`;
    this.rpcs.set(k, (this.rpcs.get(k) ?? 0) + 1);
  }
}

export function createContext(opts: Partial<ServerContext> & { log: Logger }): ServerContext {
  return {
    registry: opts.registry ?? new Registry(),
    outputDir: opts.outputDir ?? process.cwd(),
    log: opts.log,
    tokens: opts.tokens,
    stats: opts.stats ?? new Stats(),
    durable: opts.durable,
  };
}

const STATUS: Record<string, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
};

/** gRPC status and message for an error thrown by a handler. */
export function toStatus(e: unknown): { code: grpc.status; details: string } {
  if (e instanceof RequestError) return { code: STATUS[e.status], details: e.message };
  if (e instanceof HistError)
    return { code: STATUS[e.code] ?? grpc.status.INVALID_ARGUMENT, details: e.message };
  if (e instanceof CodecError) return { code: grpc.status.INVALID_ARGUMENT, details: e.message };
  if (e instanceof RangeError || e instanceof TypeError)
    return { code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message };
  return { code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) };
}

export function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

/** The caller's scope: its bearer token ("" when anonymous). Throws UNAUTHENTICATED if the server requires a
 * token and the call has none, or an unknown one. */
export function callerOf(ctx: ServerContext, metadata: grpc.Metadata): string {
  const auth = metadata.get("authorization")[0];
  let token = "";
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(String(auth));
    if (!m) throw new RequestError("UNAUTHENTICATED", "authorization metadata must be 'Bearer <token>'");
    token = m[1];
  }
  if (ctx.tokens !== undefined) {
    if (token === "") throw new RequestError("UNAUTHENTICATED", "this server requires a bearer token");
    if (!ctx.tokens.has(token)) throw new RequestError("UNAUTHENTICATED", "unknown bearer token");
  }
  return token;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, owner: string) => Promise<Res> | Res;

/** A unary handler with auth, status mapping and per-method counters. */
export function unary<Req, Res>(
  ctx: ServerContext,
  method: string,
  fn: Unary<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let owner: string;
    try {
      owner = callerOf(ctx, call.metadata);
    } catch (e) {
      const s = toStatus(e);
      ctx.stats.count(method, statusName(s.code));
      callback(s);
      return;
    }
    Promise.resolve()
      .then(() => fn(call, owner))
      .then(
        (res) => {
          ctx.stats.count(method, "OK");
          callback(null, res);
        },
        (e: unknown) => {
          const s = toStatus(e);
          if (s.code === grpc.status.INTERNAL) ctx.log.error(`${method}: ${s.details}`);
          ctx.stats.count(method, statusName(s.code));
          callback(s);
        },
      );
  };
}
