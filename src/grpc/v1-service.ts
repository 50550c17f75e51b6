// histd.v1.Histd (proto/histd/v1/histd.proto): many histograms by id, columnar and pre-binned fills with fill
// ids, snapshots (projected/sliced), export, watch, stats. Errors are gRPC statuses.
import type * as grpc from "@grpc/grpc-js";
import {
  type AxisAction,
  addInto,
  type FillValue,
  type Histogram,
  histogramFromUhi,
  histogramToUhi,
  project,
  reduce,
  STORAGE_KEYS,
  type StorageType,
  uhiToJson,
} from "../engine/index.ts";
import {
  type CodecKind,
  type DTypeName,
  decodeArray,
  f64Bytes,
  invalid,
  RequestError,
  type WireArray,
} from "./arrays.ts";
import { callerOf, histogramForClient, type ServerContext, statusName, toStatus, unary } from "./context.ts";
import { resolveDestination, writeHistogramFile } from "./files.ts";
import type { Entry } from "./registry.ts";
import { histRepr } from "./repr.ts";

interface PbArray {
  dtype: string;
  shape: number[];
  data: Uint8Array;
  codec: string;
}

interface PbColumn {
  value?: string;
  array?: PbArray | null;
  strings?: { values: string[] } | null;
  string_value?: string;
  int_value?: number;
  double_value?: number;
  bool_value?: boolean;
}

interface PbFill {
  hist_id: string;
  fill_id: string;
  data?: "columns" | "dense";
  columns?: { columns: Record<string, PbColumn> } | null;
  dense?: { storage: Record<string, PbArray> } | null;
}

interface PbSelection {
  axis: string;
  action?: "slice" | "pick" | "sum";
  slice?: { start?: number | null; stop?: number | null; merge: number; crop: boolean } | null;
  pick?: number;
  sum?: boolean;
}

const DTYPES: Record<string, DTypeName> = {
  DTYPE_FLOAT64: "float64",
  DTYPE_FLOAT32: "float32",
  DTYPE_INT64: "int64",
  DTYPE_INT32: "int32",
  DTYPE_UINT8: "uint8",
  DTYPE_BOOL: "bool",
};

const CODECS: Record<string, CodecKind> = {
  CODEC_NONE: "none",
  CODEC_LZ4: "lz4",
  CODEC_ZSTD: "zstd",
  CODEC_BLOSC: "blosc",
};

function wire(a: PbArray, what: string): WireArray {
  const dtype = DTYPES[a.dtype];
  if (dtype === undefined) throw invalid(`${what}: dtype must be set (got ${a.dtype})`);
  const codec = CODECS[a.codec];
  if (codec === undefined) throw invalid(`${what}: unknown codec ${a.codec}`);
  return { dtype, shape: a.shape.map(Number), data: a.data, codec };
}

function columnValue(c: PbColumn, what: string): FillValue {
  switch (c.value) {
    case "array": {
      const w = wire(c.array!, what);
      const v = decodeArray(w, what);
      if (w.shape.length === 0) {
        const x = (v as ArrayLike<number | bigint | boolean>)[0];
        return typeof x === "bigint" ? Number(x) : (x as number | boolean);
      }
      return v as FillValue;
    }
    case "strings":
      return c.strings?.values ?? [];
    case "string_value":
      return c.string_value ?? "";
    case "int_value":
      return Number(c.int_value);
    case "double_value":
      return Number(c.double_value);
    case "bool_value":
      return Boolean(c.bool_value);
    default:
      throw invalid(`${what}: column has no value`);
  }
}

/** A decoded, checked fill, ready to apply. */
interface Prepared {
  entry: Entry;
  fillId: string;
  apply: () => number;
  /** The request, encoded for the write-ahead log (when there is one). */
  record?: Uint8Array;
}

function prepareDense(entry: Entry, storage: Record<string, PbArray>): () => number {
  const h = entry.hist;
  const type = h.storageType;
  const keys = STORAGE_KEYS[type] as readonly string[];
  for (const k of Object.keys(storage))
    if (!keys.includes(k))
      throw invalid(`dense fill: '${k}' is not a field of ${type} storage (${keys.join(", ")})`);
  const ext = h.extents;
  const fields: Float64Array[] = keys.map((k) => {
    const a = storage[k];
    if (a === undefined)
      throw invalid(`dense fill: missing '${k}' (a ${type} storage needs ${keys.join(", ")})`);
    const w = wire(a, `dense '${k}'`);
    if (w.shape.length !== ext.length || w.shape.some((d, i) => d !== ext[i]))
      throw invalid(
        `dense fill: '${k}' has shape (${w.shape.join(", ")}), the histogram's with flow is (${ext.join(", ")})`,
      );
    const v = decodeArray(w, `dense '${k}'`, { flat: false });
    if (v instanceof Float64Array) return v;
    if (v instanceof BigInt64Array || v instanceof Int32Array || v instanceof Float32Array)
      return Float64Array.from(v as ArrayLike<number | bigint>, Number);
    throw invalid(`dense fill: '${k}' must be float64 (or int64/int32/float32)`);
  });
  for (const f of fields)
    for (let i = 0; i < f.length; i++)
      if (!Number.isFinite(f[i])) throw invalid("dense fill: values must be finite");
  if (type === "int" || type === "double" || type === "weighted") {
    return () => {
      entry.hist.storage.fields.forEach((dst, j) => {
        const src = fields[j];
        for (let i = 0; i < src.length; i++) dst[i] += src[i];
      });
      return 0;
    };
  }
  // Mean storages: merge as boost adds histograms (from the UHI fields: counts, means, variances).
  const ir = histogramToUhi(h, { withData: false });
  const data: Record<string, Float64Array> = {};
  keys.forEach((k, j) => {
    data[k] = fields[j];
  });
  const other = histogramFromUhi({ ...ir, storage: { type, data } });
  return () => {
    addInto(entry.hist, other);
    return 0;
  };
}

function prepareFill(ctx: ServerContext, f: PbFill, owner: string): Prepared {
  const entry = ctx.registry.get(f.hist_id, owner);
  if (f.data === "dense")
    return { entry, fillId: f.fill_id, apply: prepareDense(entry, f.dense?.storage ?? {}) };
  if (f.data !== "columns") throw invalid("fill has neither columns nor dense data");
  const cols = f.columns?.columns ?? {};
  const values: Record<string, FillValue> = {};
  for (const [k, c] of Object.entries(cols)) values[k] = columnValue(c, k);
  // Check now (names, types, lengths, growth limits), so a bad fill in a FillMany changes nothing.
  const args = new Array<FillValue>(entry.hist.rank);
  let weight: FillValue | undefined;
  let sample: FillValue | undefined;
  for (const [k, v] of Object.entries(values)) {
    if (k === "weight") weight = v;
    else if (k === "sample") sample = v;
    else args[entry.hist.axisIndex(k)] = v;
  }
  const missing = entry.hist.axes
    .filter((_, i) => args[i] === undefined)
    .map((a, i) => a.metadata.name ?? String(i));
  if (missing.length > 0) throw invalid(`missing fill value for axis ${missing.join(", ")}`);
  const plan = entry.hist.plan(args, { weight, sample });
  return {
    entry,
    fillId: f.fill_id,
    apply: () => {
      entry.hist.fill(args, { weight, sample });
      return plan.length;
    },
  };
}

/** Applies a fill in the histogram's queue; `durable` resolves once it is in the write-ahead log (if any). */
async function applyFill(ctx: ServerContext, p: Prepared) {
  const { entry } = p;
  return entry.run(() => {
    if (p.fillId !== "" && entry.seen(p.fillId))
      return {
        res: { hist_id: entry.id, duplicate: true, entries: 0, version: entry.version },
        durable: ctx.durable?.barrier(),
      };
    const n = applyPrepared(ctx, entry, p);
    const durable = p.record ? ctx.durable?.logFill(entry, p.fillId, p.record) : undefined;
    return { res: { hist_id: entry.id, duplicate: false, entries: n, version: entry.version }, durable };
  });
}

/** Replays one fill from the write-ahead log (before serving; not logged again). */
export function applyLoggedFill(ctx: ServerContext, entry: Entry, req: PbFill): void {
  const p = prepareFill(ctx, req, entry.owner);
  if (p.fillId !== "" && entry.seen(p.fillId)) return;
  applyPrepared(ctx, entry, p);
}

/** Applies a checked fill and does its bookkeeping (fill id, counters, change); returns the entries filled. */
function applyPrepared(ctx: ServerContext, entry: Entry, p: ReturnType<typeof prepareFill>): number {
  const n = p.apply();
  entry.remember(p.fillId);
  entry.fills++;
  entry.changed();
  ctx.stats.fills++;
  ctx.stats.entries += n;
  return n;
}

function metaJson(h: Histogram): string {
  const ir = histogramToUhi(h, { withData: false });
  return uhiToJson({ ...ir, storage: { type: ir.storage.type } });
}

function info(e: Entry) {
  const h = e.hist;
  return {
    hist_id: e.id,
    uhi_json: metaJson(h),
    storage_type: h.storageType as StorageType,
    shape: h.extents,
    nbytes: h.nbytes,
    version: e.version,
    fills: e.fills,
    repr: histRepr(h),
    created_unix: e.created / 1000,
    last_change_unix: e.lastChange / 1000,
  };
}

function axisRef(h: Histogram, name: string): number {
  if (/^\d+$/.test(name)) {
    const i = Number(name);
    if (i >= h.rank) throw invalid(`axis index ${i} out of range (rank ${h.rank})`);
    return i;
  }
  return h.axisIndex(name);
}

function selectView(h: Histogram, select: PbSelection[], proj: string[]): Histogram {
  let out = h;
  if (select.length > 0) {
    const actions: AxisAction[] = h.axes.map(() => ({ kind: "keep" }));
    for (const s of select) {
      const k = axisRef(h, s.axis);
      if (s.action === "slice") {
        const sl = s.slice!;
        actions[k] = {
          kind: "slice",
          start: sl.start ?? undefined,
          stop: sl.stop ?? undefined,
          merge: sl.merge > 0 ? sl.merge : undefined,
          crop: sl.crop,
        };
      } else if (s.action === "pick") actions[k] = { kind: "pick", bin: Number(s.pick) };
      else if (s.action === "sum") actions[k] = { kind: "sum" };
      else throw invalid(`selection of axis '${s.axis}' has no action`);
    }
    out = reduce(h, actions);
  }
  if (proj.length > 0)
    out = project(
      out,
      proj.map((p) => axisRef(out, p)),
    );
  return out;
}

function snapshotOf(e: Entry, select: PbSelection[], proj: string[]) {
  const h = selectView(e.hist, select, proj);
  const ir = histogramToUhi(h);
  const shape = h.extents;
  const storage: Record<string, unknown> = {};
  for (const key of STORAGE_KEYS[ir.storage.type]) {
    const a = ir.storage.data?.[key];
    if (a !== undefined)
      storage[key] = { dtype: "DTYPE_FLOAT64", shape, data: f64Bytes(a), codec: "CODEC_NONE" };
  }
  return {
    hist_id: e.id,
    version: e.version,
    uhi_json: uhiToJson({ ...ir, storage: { type: ir.storage.type } }),
    storage,
  };
}

export function v1Handlers(
  ctx: ServerContext,
  encodeFill?: (f: PbFill) => Uint8Array,
): grpc.UntypedServiceImplementation {
  const { registry, stats } = ctx;
  const encode = (p: Prepared, f: PbFill): Prepared =>
    ctx.durable?.walEnabled && encodeFill ? { ...p, record: encodeFill(f) } : p;
  const M = (m: string) => `histd.v1.Histd/${m}`;
  return {
    Create: unary<{ uhi_json: string; id: string; if_not_exists: boolean }, unknown>(
      ctx,
      M("Create"),
      async (call, owner) => {
        const { uhi_json, id, if_not_exists } = call.request;
        if (if_not_exists && id !== "" && registry.has(id, owner)) {
          const h = histogramForClient(ctx, owner, uhi_json, { existing: true });
          const e = registry.get(id, owner);
          if (metaJson(e.hist) !== metaJson(h))
            throw new RequestError(
              "ALREADY_EXISTS",
              `histogram '${id}' exists with different axes or storage`,
            );
          return info(e);
        }
        const h = histogramForClient(ctx, owner, uhi_json);
        const e = registry.add(h, owner, id);
        ctx.log.info(`Created histogram ${e.id}: ${histRepr(h)}`);
        await ctx.durable?.logCreate(e, uhi_json);
        return info(e);
      },
    ),
    List: unary<unknown, unknown>(ctx, M("List"), (_call, owner) => ({
      histograms: registry.all(owner).map(info),
    })),
    Describe: unary<{ hist_id: string }, unknown>(ctx, M("Describe"), (call, owner) =>
      info(registry.get(call.request.hist_id, owner)),
    ),
    Reset: unary<{ hist_id: string }, unknown>(ctx, M("Reset"), async (call, owner) => {
      const e = registry.get(call.request.hist_id, owner);
      await e.run(() => {
        e.hist.reset();
        e.changed();
        return ctx.durable?.logReset(e);
      });
      return info(e);
    }),
    Delete: unary<{ hist_id: string }, unknown>(ctx, M("Delete"), async (call, owner) => {
      const e = registry.get(call.request.hist_id, owner);
      await e.run(() => {
        registry.delete(e.id, owner);
        return ctx.durable?.logDelete(e);
      });
      return info(e);
    }),
    Fill: unary<PbFill, unknown>(ctx, M("Fill"), async (call, owner) => {
      const t0 = performance.now();
      const p = encode(prepareFill(ctx, call.request, owner), call.request);
      const r = await applyFill(ctx, p);
      stats.fillSeconds += (performance.now() - t0) / 1000;
      await r.durable;
      return r.res;
    }),
    FillMany: unary<{ fills: PbFill[] }, unknown>(ctx, M("FillMany"), async (call, owner) => {
      const prepared = call.request.fills.map((f, i) => {
        try {
          return encode(prepareFill(ctx, f, owner), f);
        } catch (e) {
          const s = toStatus(e);
          if (e instanceof Error) e.message = `fill ${i}: ${s.details}`;
          throw e;
        }
      });
      const applied = [];
      for (const p of prepared) applied.push(await applyFill(ctx, p));
      await Promise.all(applied.map((a) => a.durable));
      return { results: applied.map((a) => a.res) };
    }),
    Snapshot: unary<{ hist_id: string; select: PbSelection[]; project: string[]; drop: boolean }, unknown>(
      ctx,
      M("Snapshot"),
      async (call, owner) => {
        const { hist_id, select, project: proj, drop } = call.request;
        const e = registry.get(hist_id, owner);
        let dropped: Promise<void> | undefined;
        const snap = await e.run(() => {
          const snap = snapshotOf(e, select, proj);
          if (drop) {
            registry.delete(e.id, owner);
            dropped = ctx.durable?.logDelete(e);
          }
          return snap;
        });
        await dropped;
        return snap;
      },
    ),
    Export: unary<{ hist_id: string; destination: string }, unknown>(
      ctx,
      M("Export"),
      async (call, owner) => {
        const e = registry.get(call.request.hist_id, owner);
        const path = resolveDestination(ctx.outputDir, call.request.destination);
        const bytes = await e.run(() => writeHistogramFile(e.hist, path));
        ctx.log.info(`Exported histogram ${e.id} to ${call.request.destination}`);
        return { path: call.request.destination, bytes };
      },
    ),
    Stats: unary<unknown, unknown>(ctx, M("Stats"), (_call, owner) => {
      const mine = registry.all(owner);
      return {
        histograms: mine.length,
        bytes: mine.reduce((s, e) => s + e.hist.nbytes, 0),
        total_histograms: registry.size,
        total_bytes: registry.bytes,
        rpcs: [...stats.rpcs].map(([k, count]) => {
          const [method, status] = k.split("\t");
          return { method, status, count };
        }),
        fills: stats.fills,
        entries: stats.entries,
        received_bytes: stats.receivedBytes,
        uptime_s: (Date.now() - stats.started) / 1000,
        decode_seconds: stats.decodeSeconds,
        fill_seconds: stats.fillSeconds,
      };
    }),
    Watch: (
      call: grpc.ServerWritableStream<
        { hist_id: string; select: PbSelection[]; project: string[]; interval_ms: number },
        unknown
      >,
    ) => {
      const method = M("Watch");
      let e: Entry;
      try {
        const owner = callerOf(ctx, call.metadata);
        e = registry.get(call.request.hist_id, owner);
        snapshotOf(e, call.request.select, call.request.project); // validates the selection
      } catch (err) {
        const s = toStatus(err);
        stats.count(method, statusName(s.code));
        call.emit("error", s);
        return;
      }
      const interval = Math.max(50, Number(call.request.interval_ms) || 1000);
      let dirty = true;
      let closed = false;
      const send = () => {
        if (closed || !dirty) return;
        dirty = false;
        call.write(snapshotOf(e, call.request.select, call.request.project));
      };
      const stop = e.watch(() => {
        dirty = true;
      });
      const timer = setInterval(() => {
        if (!registry.has(e.id, e.owner)) {
          finish();
          return;
        }
        send();
      }, interval);
      const finish = () => {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        stop();
        stats.count(method, "OK");
        call.end();
      };
      call.on("cancelled", finish);
      call.on("close", finish);
      send();
    },
  };
}
