// histd's TypeScript client for histd.v1.Histd (proto/histd/v1/histd.proto), on @grpc/grpc-js.
import * as grpc from "@grpc/grpc-js";
import {
  type Histogram,
  histogramFromUhi,
  STORAGE_KEYS,
  type UhiHistogram,
  uhiFromJson,
} from "../engine/index.ts";
import { MAX_MESSAGE_BYTES, services } from "../grpc/server.ts";

export type ColumnValue =
  | Float64Array
  | Float32Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | readonly number[]
  | readonly string[]
  | readonly boolean[]
  | string
  | number
  | boolean;

export interface ClientOptions {
  /** Bearer token: scopes which histograms this client sees. */
  token?: string;
  /** PEM root certificate(s) for TLS; `tls: true` uses the system roots. */
  rootCerts?: Buffer;
  tls?: boolean;
}

export interface HistogramInfo {
  hist_id: string;
  uhi_json: string;
  storage_type: string;
  shape: number[];
  nbytes: number;
  version: number;
  fills: number;
  repr: string;
}

export interface FillResult {
  hist_id: string;
  duplicate: boolean;
  entries: number;
  version: number;
}

export interface SnapshotOptions {
  /** Projection onto these axes (names or indices), after `select`. */
  project?: (string | number)[];
  select?: Record<string, "sum" | number | { start?: number; stop?: number; merge?: number; crop?: boolean }>;
}

function column(v: ColumnValue): Record<string, unknown> {
  if (typeof v === "string") return { string_value: v };
  if (typeof v === "boolean") return { bool_value: v };
  if (typeof v === "number") return Number.isInteger(v) ? { int_value: v } : { double_value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "number") return column(Float64Array.from(v as number[]));
    if (v.length > 0 && typeof v[0] === "boolean")
      return column(Uint8Array.from(v as boolean[], (b) => (b ? 1 : 0)));
    return { strings: { values: v } };
  }
  const a = v as Exclude<ColumnValue, readonly unknown[] | string | number | boolean>;
  const dtype =
    a instanceof Float64Array
      ? "DTYPE_FLOAT64"
      : a instanceof Float32Array
        ? "DTYPE_FLOAT32"
        : a instanceof Int32Array
          ? "DTYPE_INT32"
          : a instanceof BigInt64Array
            ? "DTYPE_INT64"
            : "DTYPE_UINT8";
  return {
    array: {
      dtype,
      shape: [a.length],
      data: Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      codec: "CODEC_NONE",
    },
  };
}

function selection(sel: SnapshotOptions["select"]): unknown[] {
  return Object.entries(sel ?? {}).map(([axis, act]) =>
    act === "sum"
      ? { axis, sum: true }
      : typeof act === "number"
        ? { axis, pick: act }
        : {
            axis,
            slice: { start: act.start, stop: act.stop, merge: act.merge ?? 0, crop: act.crop ?? false },
          },
  );
}

/** A snapshot message to the engine's UHI IR (and from there to a Histogram). */
export function snapshotToUhi(snap: {
  uhi_json: string;
  storage: Record<string, { data: Uint8Array }>;
}): UhiHistogram {
  const ir = uhiFromJson(snap.uhi_json) as UhiHistogram;
  const data: Record<string, Float64Array> = {};
  for (const key of STORAGE_KEYS[ir.storage.type]) {
    const a = snap.storage[key];
    if (a === undefined) continue;
    const bytes = Uint8Array.prototype.slice.call(a.data);
    data[key] = new Float64Array(bytes.buffer, 0, bytes.byteLength / 8);
  }
  return { ...ir, storage: { type: ir.storage.type, data } };
}

export class HistdClient {
  private readonly stub: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  private readonly metadata: grpc.Metadata;

  constructor(address: string, opts: ClientOptions = {}) {
    const creds =
      opts.tls || opts.rootCerts
        ? grpc.credentials.createSsl(opts.rootCerts ?? null)
        : grpc.credentials.createInsecure();
    const { v1 } = services();
    this.stub = new v1(address, creds, {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    }) as unknown as HistdClient["stub"];
    this.metadata = new grpc.Metadata();
    if (opts.token) this.metadata.set("authorization", `Bearer ${opts.token}`);
  }

  close(): void {
    this.stub.close();
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((res, rej) => {
      (
        this.stub[method] as (
          r: unknown,
          m: grpc.Metadata,
          cb: (e: grpc.ServiceError | null, v: T) => void,
        ) => void
      ).call(this.stub, req, this.metadata, (e, v) => (e ? rej(e) : res(v)));
    });
  }

  create(uhiJson: string, opts: { id?: string; ifNotExists?: boolean } = {}): Promise<HistogramInfo> {
    return this.call("Create", {
      uhi_json: uhiJson,
      id: opts.id ?? "",
      if_not_exists: opts.ifNotExists ?? false,
    });
  }

  async list(): Promise<HistogramInfo[]> {
    return (await this.call<{ histograms: HistogramInfo[] }>("List", {})).histograms;
  }

  describe(histId: string): Promise<HistogramInfo> {
    return this.call("Describe", { hist_id: histId });
  }

  reset(histId: string): Promise<HistogramInfo> {
    return this.call("Reset", { hist_id: histId });
  }

  delete(histId: string): Promise<HistogramInfo> {
    return this.call("Delete", { hist_id: histId });
  }

  private fillRequest(histId: string, columns: Record<string, ColumnValue>, fillId?: string) {
    const cols: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(columns)) cols[k] = column(v);
    return { hist_id: histId, fill_id: fillId ?? "", columns: { columns: cols } };
  }

  /** hist's fill(**columns): axis names plus `weight` / `sample`. */
  fill(
    histId: string,
    columns: Record<string, ColumnValue>,
    opts: { fillId?: string } = {},
  ): Promise<FillResult> {
    return this.call("Fill", this.fillRequest(histId, columns, opts.fillId));
  }

  async fillMany(
    fills: { histId: string; columns: Record<string, ColumnValue>; fillId?: string }[],
  ): Promise<FillResult[]> {
    const req = { fills: fills.map((f) => this.fillRequest(f.histId, f.columns, f.fillId)) };
    return (await this.call<{ results: FillResult[] }>("FillMany", req)).results;
  }

  async snapshot(histId: string, opts: SnapshotOptions = {}): Promise<Histogram> {
    const snap = await this.call<{ uhi_json: string; storage: Record<string, { data: Uint8Array }> }>(
      "Snapshot",
      {
        hist_id: histId,
        project: (opts.project ?? []).map(String),
        select: selection(opts.select),
      },
    );
    return histogramFromUhi(snapshotToUhi(snap));
  }

  /** Writes the histogram to a file in the server's output directory (.coffea, .h5/.hdf5, .json). */
  export(histId: string, destination: string): Promise<{ path: string; bytes: number }> {
    return this.call("Export", { hist_id: histId, destination });
  }

  stats(): Promise<Record<string, unknown>> {
    return this.call("Stats", {});
  }

  /** The histogram now, then whenever it changed (at most once per intervalMs). Break to stop. */
  async *watch(
    histId: string,
    opts: SnapshotOptions & { intervalMs?: number } = {},
  ): AsyncGenerator<Histogram> {
    const stream = (
      this.stub.Watch as (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>
    ).call(
      this.stub,
      {
        hist_id: histId,
        project: (opts.project ?? []).map(String),
        select: selection(opts.select),
        interval_ms: opts.intervalMs ?? 1000,
      },
      this.metadata,
    );
    try {
      for await (const snap of stream)
        yield histogramFromUhi(snapshotToUhi(snap as Parameters<typeof snapshotToUhi>[0]));
    } catch (e) {
      if ((e as grpc.ServiceError).code !== grpc.status.CANCELLED) throw e;
    } finally {
      stream.cancel();
    }
  }
}
