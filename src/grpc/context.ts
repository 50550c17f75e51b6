// What every service of the server shares: the histograms, the output directory, auth, the log, and counters.
import * as grpc from "@grpc/grpc-js";
import { DEFAULT_LIMITS, HistError, type Histogram, histogramFromUhi, uhiFromJson } from "../engine/index.ts";
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
  /** --max-cells (per histogram) and --max-histograms-per-token. */
  limits: ServerLimits;
}

export interface ServerLimits {
  maxCells: number;
  maxHistogramsPerToken: number;
}

/**
 * A new histogram from a client's UHI JSON, within the server's limits: cells per histogram (--max-cells), storage
 * bytes left under --max-bytes (both checked before anything is allocated) and histograms per token. Beyond a limit
 * RESOURCE_EXHAUSTED, a bad text INVALID_ARGUMENT; nothing is registered here.
 */
export function histogramForClient(
  ctx: ServerContext,
  owner: string,
  uhiJson: string,
  opts: { what?: string; existing?: boolean } = {},
): Histogram {
  const what = opts.what ?? "uhi_json";
  // `existing`: only compared with a histogram the caller already has (Create with if_not_exists).
  if (!opts.existing && ctx.registry.all(owner).length >= ctx.limits.maxHistogramsPerToken)
    throw new RequestError(
      "RESOURCE_EXHAUSTED",
      `this token holds its limit of ${ctx.limits.maxHistogramsPerToken} histograms (--max-histograms-per-token)`,
    );
  const maxCells = ctx.limits.maxCells;
  try {
    const ir = uhiFromJson(uhiJson, undefined, { maxCells });
    const maxBytes = opts.existing ? undefined : ctx.registry.maxBytes - ctx.registry.bytes;
    return histogramFromUhi(ir, { maxCells, maxBytes });
  } catch (e) {
    const status = e instanceof HistError && e.code === "RESOURCE_EXHAUSTED" ? e.code : "INVALID_ARGUMENT";
    throw new RequestError(status, `${what}: ${(e as Error).message}`);
  }
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
    limits: opts.limits ?? {
      maxCells: DEFAULT_LIMITS.maxCells,
      maxHistogramsPerToken: Number.POSITIVE_INFINITY,
    },
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
  const s = rawStatus(e);
  return { code: s.code, details: cleanDetails(s.details) };
}

/**
 * Error texts echo client strings (ids, axis names); control characters in them made an invalid grpc-message
 * trailer (the client saw an HTTP/2 protocol error instead of the status), so they are escaped, and long texts cut.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point here
const CONTROL = /[\u0000-\u001f\u007f]/g;

function cleanDetails(d: string): string {
  const clean = d.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return clean.length > 1000 ? `${clean.slice(0, 1000)}...` : clean;
}

function rawStatus(e: unknown): { code: grpc.status; details: string } {
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
