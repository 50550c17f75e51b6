// The seed's protocol (proto/seed.proto, haas-protocols.md §1): /Histogrammer/fill and /Histogrammer/flush on the
// one histogram given with --hist-ir. Errors are answered as Result(success=false, message=...) as the seed does.
import type * as grpc from "@grpc/grpc-js";
import type { FillValue } from "../engine/index.ts";
import { arrayFillValue, type DTypeName, invalid } from "./arrays.ts";
import { type ServerContext, toStatus, unary } from "./context.ts";
import { resolveDestination, writeHistogramFile } from "./files.ts";
import type { Entry } from "./registry.ts";
import { histRepr } from "./repr.ts";

export interface SeedNdarray {
  shape: number[];
  dtype: { type: string } | null;
  data: Uint8Array;
}

export interface SeedValue {
  value?: "array_value" | "string_value" | "int_value" | "bool_value";
  array_value?: SeedNdarray | null;
  string_value?: string;
  int_value?: number;
  bool_value?: boolean;
}

interface Result {
  success: boolean;
  message: string;
}

const SEED_DTYPES: Record<string, DTypeName> = {
  DT_FLOAT32: "float32",
  DT_FLOAT64: "float64",
  DT_INT32: "int32",
  DT_INT64: "int64",
  TYPE_DT_FLOAT32: "float32",
  TYPE_DT_FLOAT64: "float64",
  TYPE_DT_INT32: "int32",
  TYPE_DT_INT64: "int64",
};

/** Decodes HaaS `Value` kwargs (seed or later protocol) into fill values; `blosc` for the later protocol. */
export function decodeKwargs(
  kwargs: Record<string, SeedValue>,
  codec: "none" | "blosc",
): { values: Record<string, FillValue>; bytes: number } {
  const values: Record<string, FillValue> = {};
  let bytes = 0;
  for (const [name, v] of Object.entries(kwargs)) {
    switch (v.value) {
      case "array_value": {
        const a = v.array_value;
        if (!a) throw invalid(`${name}: empty array`);
        const dtype = SEED_DTYPES[a.dtype?.type ?? "DT_FLOAT32"];
        if (dtype === undefined) throw invalid(`${name}: unknown dtype ${a.dtype?.type}`);
        values[name] = arrayFillValue({ dtype, shape: a.shape.map(Number), data: a.data, codec }, name);
        bytes += (values[name] as { byteLength?: number }).byteLength ?? 0;
        break;
      }
      case "string_value":
        values[name] = v.string_value ?? "";
        break;
      case "int_value":
        values[name] = Number(v.int_value);
        break;
      case "bool_value":
        values[name] = Boolean(v.bool_value);
        break;
      default:
        throw invalid(`${name}: Value has no value set`);
    }
  }
  return { values, bytes };
}

function numReprNumpy(x: number | bigint): string {
  if (typeof x === "bigint") return String(x);
  return Number.isInteger(x) ? `${x}.` : x.toPrecision(8).replace(/0+$/, "");
}

/** A short Python-like repr of the fill kwargs (numpy summarizes arrays longer than 1000 with "..."). */
export function kwargsRepr(values: Record<string, FillValue>): string {
  const item = (v: FillValue): string => {
    if (typeof v === "string") return `'${v}'`;
    if (typeof v === "boolean") return v ? "True" : "False";
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    const a = v as ArrayLike<number | bigint | string | boolean>;
    const fmt = (x: number | bigint | string | boolean) =>
      typeof x === "number" || typeof x === "bigint" ? numReprNumpy(x) : String(x);
    const n = a.length;
    const parts =
      n > 1000
        ? [
            ...Array.from({ length: 3 }, (_, i) => fmt(a[i])),
            "...",
            ...[n - 3, n - 2, n - 1].map((i) => fmt(a[i])),
          ]
        : Array.from({ length: n }, (_, i) => fmt(a[i]));
    return `array([${parts.join(", ")}]${n > 1000 ? `, shape=(${n},)` : ""})`;
  };
  return `{${Object.entries(values)
    .map(([k, v]) => `'${k}': ${item(v)}`)
    .join(", ")}}`;
}

export function seedHandlers(ctx: ServerContext, entry: Entry): grpc.UntypedServiceImplementation {
  const fill = unary<{ kwargs: Record<string, SeedValue> }, Result>(
    ctx,
    "Histogrammer/fill",
    async (call) => {
      try {
        const t0 = performance.now();
        const { values, bytes } = decodeKwargs(call.request.kwargs ?? {}, "none");
        await entry.run(() => {
          entry.hist.fillNamed(values);
          ctx.stats.fillSeconds += (performance.now() - t0) / 1000;
          entry.fills++;
          entry.changed();
        });
        ctx.stats.fills++;
        ctx.stats.receivedBytes += bytes;
        ctx.log.info(`Filled histogram with ${bytes.toLocaleString("en-US")} bytes`);
        return {
          success: true,
          message: `Histogram filled ${kwargsRepr(values)} successfully! Now is: ${histRepr(entry.hist)}`,
        };
      } catch (e) {
        return { success: false, message: toStatus(e).details };
      }
    },
  );
  const flush = unary<{ destination: string }, Result>(ctx, "Histogrammer/flush", async (call) => {
    const destination = call.request.destination || "hist.coffea";
    try {
      const path = resolveDestination(ctx.outputDir, destination);
      await entry.run(() => writeHistogramFile(entry.hist, path));
      ctx.log.info(`Flushed histogram to ${destination}`);
      return { success: true, message: `Histogram flushed successfully to ${destination}.` };
    } catch (e) {
      return { success: false, message: toStatus(e).details };
    }
  });
  return { fill, flush };
}
